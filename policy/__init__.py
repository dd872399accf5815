"""The kubesphere-okta policy pack (CrossGuard): guardrails run by every preview and update."""
