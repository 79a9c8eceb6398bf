"""Pure rendering: data in, text / discord.Embed / PNG bytes out."""
