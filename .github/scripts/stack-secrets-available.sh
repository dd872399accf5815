#!/usr/bin/env bash
# Can this run reach stack $STACK? It needs the stack's kubeconfig, an Okta token and the state
# backend's credentials. Writes available=true|false to $GITHUB_OUTPUT; never prints a secret's value.
#
# Without them (MODE decides, docs/review-loop.md):
#   MODE=preview: the required `preview (<stack>)` check FAILS: a check that previewed nothing must not
#     pass. Only a pull request from a fork (FORK=true) whose repository opted in with the variable
#     PREVIEW_SKIP_FORKS=true is skipped, with a notice, instead.
#   MODE=drift: the nightly check skips the stack with a notice (a new repository has no secrets yet):
#     no failure, no drift issue.
#   MODE=sync: the membership sync skips the stack the same way: no failure, no sync issue.
# Reads STACK, MODE, FORK, SKIP_FORKS, KUBECONFIG_CONTENT, OKTA_API_TOKEN, PULUMI_ACCESS_TOKEN,
# PULUMI_CONFIG_PASSPHRASE.
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
list="${list%; }"
case "${MODE:-preview}" in
  drift)
    echo "::notice title=Drift check of ${STACK} skipped::This run has no ${list}: set them (docs/review-loop.md) to check stack ${STACK} for drift. Nothing was checked; no issue is opened."
    echo "available=false" >> "$GITHUB_OUTPUT"
    ;;
  sync)
    echo "::notice title=Membership sync of ${STACK} skipped::This run has no ${list}: set them on the '${STACK}' environment (docs/membership-sync.md) to sync stack ${STACK}. Nothing was previewed or applied; no issue is opened."
    echo "available=false" >> "$GITHUB_OUTPUT"
    ;;
  preview)
    if [ "${FORK:-false}" = "true" ] && [ "${SKIP_FORKS:-}" = "true" ]; then
      echo "::notice title=Preview of ${STACK} skipped (fork)::Pull requests from forks get no secrets, and this repository set PREVIEW_SKIP_FORKS=true: this check passes WITHOUT a preview. A maintainer previews the change by pushing it to a branch of this repository (docs/review-loop.md)."
      echo "available=false" >> "$GITHUB_OUTPUT"
    else
      echo "::error title=Preview of ${STACK} not run::This run has no ${list}, so stack ${STACK} was not previewed and this required check fails. Set them on the 'preview' environment (docs/review-loop.md); for pull requests from forks, which never get secrets, see PREVIEW_SKIP_FORKS there."
      echo "available=false" >> "$GITHUB_OUTPUT"
      exit 1
    fi
    ;;
  *)
    echo "::error::unknown MODE '${MODE}' (preview, drift or sync)"
    exit 2
    ;;
esac
