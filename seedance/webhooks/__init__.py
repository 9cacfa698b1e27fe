"""Outbound webhooks to tenant apps (Standard Webhooks); inbound ones are ``seedance.inbound``."""
