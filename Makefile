# Two entry points on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
RUN_OUT ?= runs/default

.PHONY: run test install clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,interop,torch,docs]"
	@# compile the numba EPL kernel once, here, into its disk cache (otherwise the first run or test pays it)
	$(BIN)/python -c "from epl_sysbio.dynamics.native import jit_warmup; print(f'EPL kernel compiled in {jit_warmup():.0f} s')"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/epl-sysbio evolve --out $(RUN_OUT) --force

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
