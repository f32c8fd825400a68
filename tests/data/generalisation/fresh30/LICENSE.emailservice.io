https://support.mailprotector.com/hc/en-us/articles/360048244891-Common-Email-Bouncebacks @ (web page, no commit) : NOASSERTION
No licence notice seen (only a search-index excerpt of the page was available). One quoted SMTP reply line.
