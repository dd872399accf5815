# `make test` and `make plan` work on a fresh clone with only Python 3.11 (and Node.js for the
# login-flow test): they create the virtualenv and install what they need themselves.
# `make plan` (and `make venv`) install only what the program needs: requirements.txt and the
# component; `make test` adds the test tools (requirements-dev.txt); `make policy-venv` adds the
# policy pack's requirements (policy/requirements.txt), which the CI previews and deploys use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check
STAMP        := $(VENV)/.installed
POLICY_STAMP := $(VENV)/.installed-policy
DEV_STAMP    := $(VENV)/.installed-dev
# Byte-compile our own modules as pip does for every installed dependency (an editable install
# is not compiled): with PYTHONDONTWRITEBYTECODE set, each run would compile them again.
# Up-to-date files are only stat'ed.
COMPILE      := $(PY) -m compileall -q components/kubesphere_okta infra
# ... again only when one of them changed: an up-to-date `make plan` starts no compileall process.
BYTECODE_STAMP := $(VENV)/.bytecode
SOURCES        := $(wildcard components/kubesphere_okta/*.py infra/*.py)
# The login-flow test's OpenID Provider (oidc-provider from npm, pinned by its package-lock.json).
# Without npm the test skips itself, naming what to install; in CI (CI=true) both fail instead.
OIDC_PROVIDER       := tests/oidc_provider
OIDC_PROVIDER_STAMP := $(OIDC_PROVIDER)/node_modules/.installed

.PHONY: bytecode test plan venv policy-venv clean docs openid-provider bench mutation

venv: $(STAMP)

policy-venv: $(POLICY_STAMP)

$(STAMP): requirements.txt pyproject.toml
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt
	# The component is installed (editable) and imported as `kubesphere_okta`, exactly as a consumer would.
	$(PIP) --no-deps -e .
	$(COMPILE)
	touch $(STAMP)

$(POLICY_STAMP): $(STAMP) policy/requirements.txt
	$(PIP) -r policy/requirements.txt
	touch $(POLICY_STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt policy/requirements.txt
	$(PIP) -r requirements-dev.txt
	touch $(DEV_STAMP)

# The suite runs on every core (pytest-xdist): it is CPU-bound, and on 2 cores it takes about half as
# long as one process. `make test TEST_JOBS=0` runs it in this process (pdb, -x); plain `pytest`
# does too (`make mutation` runs pytest per mutant and must not fan out).
TEST_JOBS ?= auto

test: $(DEV_STAMP) $(OIDC_PROVIDER_STAMP)
	$(PY) -m pytest -n $(TEST_JOBS)

# What the `dev` stack would do, offline: no Pulumi CLI, no credentials, no network.
plan: $(BYTECODE_STAMP)
	$(PY) -m infra.plan --stack dev

bytecode: $(BYTECODE_STAMP)

$(BYTECODE_STAMP): $(STAMP) $(SOURCES)
	@$(COMPILE)
	@touch $@

bench: $(DEV_STAMP)
	$(PY) -m bench.overhead

# Mutation testing of the pure decision modules (minutes, CPU-heavy; not part of `make test`), see
# docs/mutation-testing.md. `make mutation MODULES=rules` runs only the modules named.
MUTATION_STAMP := $(VENV)/.installed-mutation
MODULES ?=

$(MUTATION_STAMP): $(DEV_STAMP) requirements-mutation.txt
	$(PIP) -r requirements-mutation.txt
	touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	$(PY) -m mutation $(MODULES)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mutation $(OIDC_PROVIDER)/node_modules

docs: $(STAMP)
	$(PY) -m infra.reference --write

openid-provider: $(OIDC_PROVIDER_STAMP)

$(OIDC_PROVIDER_STAMP): $(OIDC_PROVIDER)/package.json $(OIDC_PROVIDER)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(OIDC_PROVIDER) --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: the login-flow test will be skipped; install Node.js (>= 20) and npm"; \
		[ "$$CI" != "true" ] || exit 1; \
	fi
