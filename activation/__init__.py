"""Activation: push segment membership to downstream tools with diff syncs, consent, retries
and a ledger in the warehouse (docs/operator.md, "Activation")."""
