"""Writes: every change to tenant data goes through a function here."""
