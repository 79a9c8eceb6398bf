"""WatchClub: a Discord bot that runs the weekly rhythm of a watch club."""
