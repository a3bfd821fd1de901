"""The modal dialogs: questions that need a deliberate answer, file and paste imports, reports, help."""
