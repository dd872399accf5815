#!/usr/bin/env bash
# Can this run preview stack $STACK? Pull requests from forks, and repositories that have not set
# every secret yet, get none: then the preview is skipped with a notice instead of failing.
# Reads STACK, KUBECONFIG_CONTENT, OKTA_API_TOKEN, PULUMI_ACCESS_TOKEN, PULUMI_CONFIG_PASSPHRASE;
# writes available=true|false to $GITHUB_OUTPUT. Never prints a secret's value.
set -euo pipefail
upper="${STACK^^}"
missing=()
[ -n "${KUBECONFIG_CONTENT:-}" ] || missing+=("KUBECONFIG_${upper}")
[ -n "${OKTA_API_TOKEN:-}" ] || missing+=("OKTA_API_TOKEN (or OKTA_API_TOKEN_${upper})")
[ -n "${PULUMI_ACCESS_TOKEN:-}${PULUMI_CONFIG_PASSPHRASE:-}" ] || missing+=("PULUMI_ACCESS_TOKEN or PULUMI_CONFIG_PASSPHRASE")
if [ "${#missing[@]}" -eq 0 ]; then
  echo "available=true" >> "$GITHUB_OUTPUT"
  exit 0
fi
list="$(printf '%s; ' "${missing[@]}")"
echo "::notice title=Preview of ${STACK} skipped::This run has no ${list%; } (pull requests from forks get no secrets; a new repository may not have set them yet). Nothing was previewed for ${STACK}; see docs/review-loop.md."
echo "available=false" >> "$GITHUB_OUTPUT"
