"""The Textual front end. The only package in chatimg that imports Textual."""
