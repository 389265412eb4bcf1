"""timesformer/benchmarks/loader_speed.py: the workers a loader's clips/s is shared among."""

from timesformer.benchmarks.loader_speed import busy_workers


def test_busy_workers_are_at_most_one_per_batch_of_an_epoch():
    class Loader:
        def __init__(self, workers, batches):
            self.num_workers, self.batches = workers, batches

        def __len__(self):
            return self.batches

    assert [busy_workers(Loader(w, b)) for w, b in ((0, 5), (4, 1), (4, 8))] == [1, 1, 4]
