#!/usr/bin/env bash
# The membership sync's one issue per stack: opened, or its body replaced (never a second issue, never
# a comment per run), while the sync refuses or holds the stack's plan; closed when a later run finds
# membership changes only, or nothing, to apply. Found by its label and exact title.
# Usage: sync-issue.sh open REPORT_FILE | sync-issue.sh close
# Reads STACK, RUN_URL (and GH_TOKEN, GH_REPO for gh).
set -euo pipefail
label="membership-sync"
title="Membership sync of stack ${STACK} needs review"
number=$(gh issue list --state open --label "$label" --limit 100 --json number,title \
  --jq ".[] | select(.title == \"${title}\") | .number" | head -n 1)
case "${1:-}" in
  open)
    body="$(cat "$2")

Last checked by ${RUN_URL}. This issue is updated by every sync of \`${STACK}\` and closed once a sync applies (or finds nothing to do); see docs/membership-sync.md."
    if [ -n "$number" ]; then
      gh issue edit "$number" --body "$body"
    else
      gh label create "$label" --color 5319e7 --description "The membership sync held or refused a plan" --force
      gh issue create --title "$title" --label "$label" --body "$body"
    fi
    ;;
  close)
    if [ -n "$number" ]; then
      gh issue close "$number" --comment "A later sync of \`${STACK}\` applied membership changes only, or found nothing to change: ${RUN_URL}"
    fi
    ;;
  *)
    echo "usage: sync-issue.sh open REPORT_FILE | sync-issue.sh close" >&2
    exit 2
    ;;
esac
