# Two commands for a fresh machine:  make demo  (set up, enlarge the bundled sample)
#                                     make test  (set up, run the tests)
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test serve bench clean

# the demo needs the package alone (ONNX Runtime, no torch); the tests add the test and train extras
$(VENV)/.demo: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[quality]'
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.demo
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,train]'
	touch $@

demo: $(VENV)/.demo
	$(BIN)/enhance --zoom=2 --output demo_out samples/bridge.jpg
	$(BIN)/enhance --retina --pipeline-check --output demo_out/retina --report demo_out/report.html samples/bridge.jpg
	@echo "demo: the enlarged sample is demo_out/bridge_ne2x.png; its retina set, srcset.html and manifest.json"
	@echo "      are in demo_out/retina/, and demo_out/report.html shows them beside Lanczos"
	@echo "next: source $(VENV)/bin/activate, then enhance --zoom=2 YOUR_FILE (see the README)"

$(VENV)/.serve: pyproject.toml $(VENV)/.demo
	$(BIN)/pip install -q -e '.[quality,serve]'
	touch $@

# the web page: open http://127.0.0.1:8080/ (Ctrl-C stops it and removes every job's files)
serve: $(VENV)/.serve
	$(BIN)/enhance serve

test: $(VENV)/.test
	$(BIN)/python -m pytest tests

bench: $(VENV)/.test
	$(BIN)/python -m benchmarks run --models bicubic,lanczos,raisr,default --scales 2 3 4

clean:
	rm -rf demo_out .pytest_cache
