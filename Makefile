# pgstream.replication — the README's two commands are `make demo` and `make test`.
# Every target installs what it needs (host packages, venv, images) itself.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV ?= .venv
SUITE ?= bookworm
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/build/collections
export ANSIBLE_FORCE_COLOR := 0
# Molecule scenarios run by `make test` (others: `make molecule SCENARIOS=...`), the long ones first.
# NAME@SUITE:MAJOR runs a scenario on localhost/pgstream-pg:SUITE (failover and rejoin-diverged also run on
# PostgreSQL 18, whose initdb turns data checksums on, which changes what pg_rewind needs; switchover@forky:18, whose
# clean switchovers need no rewind, is in MATRIX_SCENARIOS, for CI time: a clean-clone run took about 60 min with it).
# MOLECULE_JOBS of them run at once (scripts/molecule.sh), each on its own containers and network. 1 by
# default: with 2 on a 2-core machine the scenarios ran about 1.8x slower each and the opengauss one timed out.
SCENARIOS ?= default opengauss rejoin-diverged switchover sync modules failover failover@forky:18 \
             rejoin-diverged@forky:18
MOLECULE_JOBS ?= 1
export MOLECULE_JOBS
# The version matrix (make matrix): the default scenario on these SUITE:MAJOR images, then MATRIX_SCENARIOS
# (the operation scenarios on PostgreSQL 13, the oldest major with a reloadable primary_conninfo, about 16 min; and the
# switchover scenario on 18).
MATRIX ?= bullseye:13 trixie:17 forky:18
MATRIX_SCENARIOS ?= switchover@bullseye:13 failover@bullseye:13 rejoin-diverged@bullseye:13 switchover@forky:18

.PHONY: help demo demo-destroy test host venv collection images unit sanity lint molecule gs-ctl-double matrix build clean

help:
	@echo "make demo   - build a primary + 2 standbys in local podman containers with playbooks/site.yml"
	@echo "make test   - unit tests, ansible-test sanity, ansible-lint (production), the gs_ctl double's smoke check, Molecule scenarios"
	@echo "make images [SUITE=bookworm|bullseye|trixie|forky] - build/reuse the test host image"
	@echo "make matrix - the default scenario on PostgreSQL 13, 17 and 18 images (not part of make test)"

host:
	scripts/setup-host.sh

venv:
	scripts/venv.sh

collection:
	@scripts/collection-path.sh >/dev/null

images: host
	SUITE=$(SUITE) scripts/build-image.sh

demo: host venv collection images
	SUITE=$(SUITE) scripts/demo.sh

demo-destroy: venv collection
	scripts/demo.sh destroy

test: host venv collection
	$(MAKE) unit
	$(MAKE) sanity
	$(MAKE) lint
	$(MAKE) images
	$(MAKE) gs-ctl-double
	$(MAKE) molecule
	@echo "make test: all stages passed"

unit: venv collection
	PYTHONPATH=$(CURDIR)/build/collections python -m pytest -q -p no:cacheprovider \
	  --import-mode=importlib tests/unit

sanity: venv
	scripts/sanity.sh

# ANSIBLE_HOME of its own: ansible-lint puts ~/.ansible/collections first on the collection path, where Molecule's
# prerun leaves an installed copy of this collection from the last scenario run; a module added since is then
# "unknown" to the syntax check. With an empty ANSIBLE_HOME it resolves pgstream.replication from this tree.
lint: venv collection
	ANSIBLE_HOME=$(CURDIR)/build/ansible-home ansible-lint --profile production --offline

molecule: venv collection images
	scripts/molecule.sh $(SCENARIOS)

# The gs_ctl test double end to end on real PostgreSQL (tests/gs_ctl_double/smoke.sh).
gs-ctl-double: images
	tests/gs_ctl_double/smoke.sh

matrix: host venv collection
	@for m in $(MATRIX); do \
	  suite=$${m%%:*}; major=$${m##*:}; \
	  echo "=== molecule test -s default on $$suite / PostgreSQL $$major"; \
	  SUITE=$$suite scripts/build-image.sh || exit 1; \
	  PGSTREAM_IMAGE=localhost/pgstream-pg:$$suite PGSTREAM_PG_MAJOR=$$major molecule test -s default || exit 1; \
	done
	$(if $(strip $(MATRIX_SCENARIOS)),$(MAKE) molecule SCENARIOS="$(MATRIX_SCENARIOS)")

build: venv
	mkdir -p build/dist
	ansible-galaxy collection build --force --output-path build/dist .

clean:
	rm -rf build
