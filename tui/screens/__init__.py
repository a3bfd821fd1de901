"""The full-screen app's screens: the summary, a campaign's details, the editor, the recipients
and the contact picker."""
