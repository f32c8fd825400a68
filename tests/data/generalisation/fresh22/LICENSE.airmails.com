Source: azunisoftware18/api.airmails.com (ea9c6c09c138326b34c763f372dc52b11fc84c81), licence: ISC (package.json field; no licence file)
No licence file in the repository; only short reply strings were taken.
