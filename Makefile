# The two set-up commands of the README:
#   make demo   creates .venv, installs imugait, records simulated sessions, analyses them, opens the dashboard
#   make test   creates .venv, installs imugait with its dev tools, runs ruff, mypy and the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= demo-data
PORT   ?= 8501

.PHONY: demo test lint typecheck pytest bench-speed clean-venv bench-sim validate-real check-mobgap-data validate-ipol validate-semiogram validate-stroke validate-turns validate-tripod validate-calibration validate-neura validate-kuopio validate-symmetry validate-repeatability

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/imugait demo --data $(DATA) --port $(PORT)

test: $(VENV)/.installed-dev lint typecheck pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

pytest: $(VENV)/.installed-dev
	$(BIN)/pytest

clean-venv:
	rm -rf $(VENV)

# Validation (docs/validation/README.md). bench-sim: simulator truth error table (writes docs/validation/sim_grid.md).
# validate-real: our pipeline and mobgap on mobgap's example data; needs DATA=<.../example_data> (nothing is
# downloaded or extracted); mobgap lives only in $(BENCH_VENV), never in imugait's dependencies.
BENCH_VENV ?= .venv-bench

bench-sim: $(VENV)/.installed
	$(BIN)/python bench/sim_grid.py
	$(BIN)/python bench/sim_gaps.py
	$(BIN)/python bench/sim_speed_budget.py
	$(BIN)/python bench/sim_orientation.py

$(BENCH_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet mobgap c3d -e .
	touch $@

check-mobgap-data:
	@test -d "$(DATA)/data/lab" || { echo "validate-real: pass DATA=<mobgap example_data folder> (no $(DATA)/data/lab)"; exit 2; }

validate-real: check-mobgap-data $(VENV)/.installed $(BENCH_VENV)/.installed
	$(BIN)/python bench/validate_real.py --data "$(DATA)"
	$(BENCH_VENV)/bin/python bench/compare_mobgap.py --data "$(DATA)"
	$(BENCH_VENV)/bin/python bench/validate_speed.py --data "$(DATA)"

# validate-ipol: the held-out Voisard et al. (IPOL 2023) lower-back dataset, ours next to mobgap's, and stride
# length and walking speed against the feet's inertial navigation (bench/validate_stride_length.py); needs
# IPOL=<folder of a CyrilVoisard/ipol_dataset_1 checkout> (AGPL-3.0 data, never copied into this repository).
validate-ipol: $(VENV)/.installed $(BENCH_VENV)/.installed
	@test -d "$(IPOL)/GaitData" || { echo "validate-ipol: pass IPOL=<ipol_dataset_1 folder> (no $(IPOL)/GaitData)"; exit 2; }
	$(BENCH_VENV)/bin/python bench/validate_ipol.py --data "$(IPOL)" --mobgap
	$(BENCH_VENV)/bin/python bench/validate_stride_length.py --data "$(IPOL)" --mobgap

# validate-turns: the U-turn of every IPOL walk (and, with SEMIOGRAM=…, of the semiogram patients) found by
# pipeline.turns and by mobgap's TdElGohary against the datasets' U-turn boundaries; strides left out as turning.
validate-turns: $(VENV)/.installed $(BENCH_VENV)/.installed
	@test -d "$(IPOL)/GaitData" || { echo "validate-turns: pass IPOL=<ipol_dataset_1 folder> (no $(IPOL)/GaitData)"; exit 2; }
	$(BENCH_VENV)/bin/python bench/validate_turns.py --data "$(IPOL)" $(if $(SEMIOGRAM),--semiogram "$(SEMIOGRAM)") --mobgap

# validate-semiogram: patients (multiple sclerosis, equinovarus foot) the detector never saw, ours next to mobgap's;
# needs SEMIOGRAM=<CyrilVoisard/ipol_semiogram checkout> (AGPL-3.0 data, never copied into this repository).
validate-semiogram: $(VENV)/.installed $(BENCH_VENV)/.installed
	@test -d "$(SEMIOGRAM)/example_datasets" || { echo "validate-semiogram: pass SEMIOGRAM=<ipol_semiogram folder> (no $(SEMIOGRAM)/example_datasets)"; exit 2; }
	$(BENCH_VENV)/bin/python bench/validate_semiogram.py --data "$(SEMIOGRAM)" --mobgap

# validate-stroke: 4 people after stroke on a treadmill (MovingReality), pelvis only against their shank gyroscopes,
# ours next to mobgap's; needs MOVINGREALITY=<SintMaartenskliniek/MovingReality checkout> (MIT, never copied here).
validate-stroke: $(VENV)/.installed $(BENCH_VENV)/.installed
	@test -d "$(MOVINGREALITY)/data" || { echo "validate-stroke: pass MOVINGREALITY=<MovingReality folder> (no $(MOVINGREALITY)/data)"; exit 2; }
	$(BENCH_VENV)/bin/python bench/validate_stroke.py --data "$(MOVINGREALITY)" --mobgap

# validate-tripod: sacrum walking speed vs a treadmill belt and OptoGait (one person); needs
# TRIPOD=<HPI-CH/TRIPOD checkout>/example_data/raw/TRIPOD_excerpt/Sub_FZ (MIT data, never copied here).
validate-tripod: $(VENV)/.installed
	$(BIN)/python bench/validate_tripod.py --data "$(TRIPOD)"

# validate-neura: thigh events and step lengths vs Vicon markers on one trial (NeuRA sparse sample); needs
# NEURA=<gait-tech/gaittoolbox checkout> (GPL-3.0 data, never copied here).
validate-neura: $(VENV)/.installed
	@test -d "$(NEURA)/data/sample/rawvicon" || { echo "validate-neura: pass NEURA=<gaittoolbox checkout> (no $(NEURA)/data/sample/rawvicon)"; exit 2; }
	$(BIN)/python bench/validate_neura.py --data "$(NEURA)"

# validate-kuopio: thigh and pelvis events vs force plates, angles vs markers, one Kuopio gait trial; needs
# KUOPIO=<gateway240/opensim-core-examples checkout> (never copied here); reads the .c3d with the bench venv's c3d.
validate-kuopio: $(VENV)/.installed $(BENCH_VENV)/.installed
	@test -d "$(KUOPIO)" || { echo "validate-kuopio: pass KUOPIO=<opensim-core-examples checkout, or one folder with the trial's files>"; exit 2; }
	$(BENCH_VENV)/bin/python bench/validate_kuopio.py --data "$(KUOPIO)"

# validate-symmetry: symmetry indices, contact offsets and the compensation report's false alarms on real walkers;
# IPOL= and/or DATA= (as above).
validate-symmetry: $(VENV)/.installed
	cd bench && ../$(BIN)/python validate_symmetry.py $(if $(IPOL),--ipol "$(abspath $(IPOL))") \
		$(if $(filter-out demo-data,$(DATA)),--data "$(abspath $(DATA))")

# validate-repeatability: walk-to-walk SEM, MDC95, ICC and τ of every session metric on the IPOL walkers' repeated
# walks (the τ of pipeline/change.py: --python prints it); IPOL= (as above).
validate-repeatability: $(VENV)/.installed
	@test -d "$(IPOL)/GaitData" || { echo "validate-repeatability: pass IPOL=<ipol_dataset_1 folder> (no $(IPOL)/GaitData)"; exit 2; }
	cd bench && ../$(BIN)/python validate_repeatability.py --ipol "$(abspath $(IPOL))" --python

# validate-calibration: per-walker step-length calibration, leave-one-walk-out; any of IPOL=, TRIPOD=, DATA= (as above).
validate-calibration: $(VENV)/.installed
	cd bench && ../$(BIN)/python validate_calibration.py $(if $(IPOL),--ipol "$(abspath $(IPOL))") \
		$(if $(TRIPOD),--tripod "$(abspath $(TRIPOD))") $(if $(filter-out demo-data,$(DATA)),--mobilised "$(abspath $(DATA))")

bench-speed: $(VENV)/.installed
	$(BIN)/python bench/pipeline_speed.py
