code index file id 37398173617 (Vietnamese Zimbra body_checks note, cloudchuanchi.com; repository not named by the index) @ unknown : NOASSERTION
