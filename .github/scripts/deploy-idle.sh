#!/usr/bin/env bash
# Is no Deploy run unfinished? GitHub keeps ONE pending job per concurrency group and cancels an older
# pending one when another is queued, so a preview or drift job queued into `pulumi-<stack>` while a
# deploy job waits there would cancel that deploy. Jobs that share the group with the deploy ask
# this first (docs/review-loop.md, "One stack, one run at a time").
#   WAIT_SECONDS=0 (drift): answer now; WAIT_SECONDS=N (preview): wait up to N seconds for deploys to end.
# Reads GH_TOKEN, GH_REPO, WAIT_SECONDS; writes idle=true|false to $GITHUB_OUTPUT.
set -euo pipefail
deadline=$(( $(date +%s) + ${WAIT_SECONDS:-0} ))
while :; do
  unfinished=$(gh run list --workflow deploy.yml --limit 50 --json status --jq '[.[] | select(.status != "completed")] | length')
  if [ "$unfinished" -eq 0 ]; then
    echo "idle=true" >> "$GITHUB_OUTPUT"
    exit 0
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "::notice title=Deploy in progress::$unfinished Deploy run(s) unfinished; not queueing into the stacks' concurrency groups behind them"
    echo "idle=false" >> "$GITHUB_OUTPUT"
    exit 0
  fi
  sleep 30
done
