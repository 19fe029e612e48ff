"""Activation: push segment membership to downstream tools with diff syncs, consent, retries
and a ledger in the warehouse (README, "Activation")."""
