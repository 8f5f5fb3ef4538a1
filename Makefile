# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Each step runs only when its inputs changed (stamp files), so repeated runs are fast.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
NODE_STAMP := node_modules/.installed
VENV_STAMP := $(VENV)/.installed
# S3A connector matching the Hadoop 3.3.4 client bundled in pyspark 3.5.6: lets local Spark read and write
# s3:// paths on the emulator, as Glue does on S3. Resolved by Maven coordinates with Maven's dependency plugin
# (through the local repository ~/.m2), then copied here.
JARS_DIR := $(VENV)/spark-jars
MVN_COPY := mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy -DoutputDirectory=$(JARS_DIR)
JARS := $(JARS_DIR)/hadoop-aws-3.3.4.jar $(JARS_DIR)/aws-java-sdk-bundle-1.12.262.jar
# The Glue job's JVM helpers (glue-scripts/jvm, a Maven module compiled against Spark 3.5.6 and Scala 2.12.18, what
# Glue 5.1 runs): the stack deploys the jar with the job (--extra-jars; it builds it itself when synthesizing, see
# pipeline/constructs/line-check-jar.ts), the local mode, the tests and the benchmark load it from here. Maven resolves
# its dependencies once into ~/.m2; later builds read them from there.
LINE_CHECK_JAR := glue-scripts/jvm/build/pipeline-json.jar
LINE_CHECK_SRC := glue-scripts/jvm/pom.xml $(shell find glue-scripts/jvm/src/main -type f)
MVN := mvn -q -B -f glue-scripts/jvm/pom.xml
# Node 22, the Lambdas' runtime (nodejs22.x): every target runs node, npm, npx, jest and tsx with it. When the
# machine's node is older, `make install` brings the official binary as the npm package node-<os>-<cpu>, pinned,
# into $(NODE_DIR); its bin folder comes first on PATH for every recipe (and for .ci/run).
NODE_VERSION := 22.23.5
NODE_DIR := .tools/node-$(NODE_VERSION)
NODE_BIN := $(CURDIR)/$(NODE_DIR)/node_modules/.bin
NODE_PACKAGE := node-$(shell uname -s | tr A-Z a-z)-$(shell uname -m | sed -e s/x86_64/x64/ -e s/aarch64/arm64/)
export PATH := $(NODE_BIN):$(PATH)
# The browser of the console's end-to-end test (test/e2e/console.test.ts): Debian's chromium package, driven by
# playwright-core through its executablePath (Playwright downloads no browser). Installed with apt-get when missing.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM_PATH := $(CHROMIUM)
CHROMIUM_STAMP := .tools/chromium.installed
NODE22_STAMP := $(if $(filter true,$(shell node -p 'process.versions.node.split(".")[0] >= 22' 2>/dev/null)),,$(NODE_DIR)/.installed)

.PHONY: help install demo lint test test-fast test-ts test-py test-jvm bench-builder cost bench-glue screenshot clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

$(NODE_DIR)/.installed:
	npm install --prefix $(NODE_DIR) --no-save --no-package-lock --no-audit --no-fund $(NODE_PACKAGE)@$(NODE_VERSION)
	@test "$$(node --version)" = "v$(NODE_VERSION)" || { echo "node on PATH is $$(node --version), not v$(NODE_VERSION)" >&2; exit 1; }
	@touch $@

$(NODE_STAMP): package.json package-lock.json | $(NODE22_STAMP)
	npm ci --no-audit --no-fund
	@touch $@

$(VENV_STAMP): requirements.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	@touch $@

$(JARS_DIR)/hadoop-aws-3.3.4.jar:
	$(MVN_COPY) -Dartifact=org.apache.hadoop:hadoop-aws:3.3.4:jar

$(JARS_DIR)/aws-java-sdk-bundle-1.12.262.jar:
	$(MVN_COPY) -Dartifact=com.amazonaws:aws-java-sdk-bundle:1.12.262:jar

$(LINE_CHECK_JAR): $(LINE_CHECK_SRC)
	$(MVN) package -DskipTests
	@touch $@

$(CHROMIUM_STAMP):
	@if ! test -x $(CHROMIUM); then \
	  echo "installing Debian's chromium package (the console's browser tests need it)"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; \
	fi; \
	test -x $(CHROMIUM) || { echo "error: no Chromium at $(CHROMIUM), and apt-get could not install Debian's chromium package: install it (apt-get install chromium) or set CHROMIUM=<path of a Chromium>" >&2; exit 1; }
	@mkdir -p $(@D) && touch $@

install: $(NODE_STAMP) $(VENV_STAMP) $(JARS) $(LINE_CHECK_JAR) ## install npm packages, the Python venv, the Spark S3 connector and the Glue job's line check

demo: install ## run the whole pipeline locally on sample data and show the result
	npx tsx local/demo.ts

# What `make lint` reads: the TypeScript of these folders (ESLint with type information, Prettier), the Python of
# pyproject.toml's paths (ruff, pyright).
TS_DIRS := contracts pipeline handlers cli local bench test

lint: $(NODE_STAMP) $(VENV_STAMP) ## ESLint and Prettier on the TypeScript, ruff and pyright on the Python; every finding, then fails if any
	@status=0; \
	echo "eslint"; npx eslint --max-warnings 0 $(TS_DIRS) || status=1; \
	echo "prettier --check"; npx prettier --check --log-level warn $(foreach d,$(TS_DIRS),'$(d)/**/*.ts') || status=1; \
	echo "ruff check"; $(VENV)/bin/ruff check --quiet || status=1; \
	echo "pyright"; npx pyright || status=1; \
	exit $$status

test: lint test-ts test-py test-jvm ## lint, then every test suite (TypeScript, Python, JVM, end-to-end); fails if any fails

# Jest runs one worker on 2 cores, so the Glue job's Spark tests run beside it; Jest's report is printed after pytest's.
test-fast: install ## the inner loop: type check, then unit and infrastructure tests beside the Glue job's tests (no emulator, no S3 server, no end-to-end)
	npx tsc --noEmit
	@jest_log=$$(mktemp); npx jest test/unit test/infra > $$jest_log 2>&1 & jest=$$!; \
	$(VENV)/bin/python -m pytest -q -m "unit or spark" glue-scripts/tests; py=$$?; \
	wait $$jest; js=$$?; cat $$jest_log; rm -f $$jest_log; \
	test $$py -eq 0 && test $$js -eq 0

test-ts: install $(CHROMIUM_STAMP) ## the TypeScript half of `make test`: type check, then every Jest suite (unit, infra, integration, end-to-end, the console's in Chromium)
	npx tsc --noEmit
	npx jest --runInBand

test-py: install ## the Python half of `make test`: the Glue job's tests and the emulator's
	$(VENV)/bin/python -m pytest -q glue-scripts/tests local/tests

test-jvm: ## the JUnit tests of the Glue job's JVM helpers (glue-scripts/jvm), then their jar
	$(MVN) package
	@touch $(LINE_CHECK_JAR)

bench-builder: install ## benchmark: 10,000 notifications through the manifest builder against the emulator
	npx tsx bench/manifest-builder.ts

cost: $(NODE_STAMP) ## the monthly bill and the headroom of the reference load (docs/cost.md), from the builder benchmark's figures
	npx tsx cli/main.ts cost

bench-glue: install ## benchmark: the Glue job on ~700 MB of NDJSON (first manifest, steady state) as ratios to bare Spark; DuckDB
	$(VENV)/bin/python glue-scripts/bench/bench_ndjson_to_parquet.py

screenshot: install $(CHROMIUM_STAMP) ## the manifest page's screenshot in docs/operations.md, taken by the console's browser test
	SCREENSHOT=docs/images/console-manifest.png npx jest --runInBand test/e2e/console.test.ts

clean: ## remove installed dependencies and local state
	rm -rf node_modules $(VENV) cdk.out .local .bench .tools glue-scripts/jvm/build
