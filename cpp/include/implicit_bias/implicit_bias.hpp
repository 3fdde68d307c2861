// Umbrella header of the implicit-bias core.
#pragma once

#include "dataset.hpp"
#include "ensemble.hpp"
#include "full_batch.hpp"
#include "lanes.hpp"
#include "loss.hpp"
#include "numerics.hpp"
#include "optimizers.hpp"
#include "recorder.hpp"
#include "rng.hpp"
#include "run.hpp"
#include "run_base.hpp"
#include "sampler.hpp"
#include "scale.hpp"
#include "schedule.hpp"
