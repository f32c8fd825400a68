Source repository: github.com/lbesecker195/AI-Agent-Email-List — licence: NOASSERTION
The repository has no licence file. Its README says: "Currently unlicensed, which means all rights reserved.
If you want to use or contribute to this, say so and a licence will be added."
Only short SMTP reply strings (with their codes) were taken from lib/email_provider/smtp/server.ex; they are
the replies the service's inbound SMTP server sends. A reader who needs a licence for the strings should drop
the agentemaillist.com rows.
