Transparency-2025/Ireland-Embassies-and-Consulates @ 2a0c5ef8b8a188eea582f8eb074277499e435394 : NOASSERTION
The repository has no LICENSE file and no licence notice (checked with git grep for licen/copyright/non-commercial).
