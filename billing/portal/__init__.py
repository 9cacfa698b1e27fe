"""Portal pages that show money: usage, caps and the price estimate (billing's views)."""
