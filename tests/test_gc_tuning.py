"""The collector's pause meter, which the benchmarks report beside their p99."""

import gc

from omnihub.gc_tuning import PauseMeter


def test_the_meter_counts_each_collection_by_generation_and_only_while_installed():
    gc.disable()  # only the collections asked for here: none set off by allocations
    try:
        with PauseMeter() as meter:
            gc.collect(0)
            gc.collect(0)
            gc.collect(2)
        gc.collect(1)  # after it is removed: not counted
    finally:
        gc.enable()
    assert meter.count == [2, 0, 1]
    assert all(ms >= 0 for ms in meter.total_ms)
    assert meter.longest_ms[2] <= meter.total_ms[2]
    assert meter._callback not in gc.callbacks


def test_several_processes_meters_merge_into_one():
    a = {"collections": [3, 1, 0], "longest_ms": [5.0, 9.0, 0.0], "total_ms": [7.0, 9.0, 0.0]}
    b = {"collections": [2, 0, 1], "longest_ms": [8.0, 0.0, 40.0], "total_ms": [9.5, 0.0, 40.0]}
    assert PauseMeter.merged([a, b]) == {"collections": [5, 1, 1], "longest_ms": [8.0, 9.0, 40.0],
                                         "total_ms": [16.5, 9.0, 40.0]}
