"""The micro-batches of one accumulated optimizer step, fetched together."""


class MicroBatches(list):
    """A list of data batches (each as a dataloader yields it) that make ONE optimizer step.

    The train loop hands it to ``model.train_step`` in place of a single batch when exact
    contrast accumulation is on (``mavil.engine.MicroBatchLoader``), so that the model sees
    the whole accumulated batch at once and every micro-batch is loaded exactly once.
    """

    def __repr__(self) -> str:
        return f'MicroBatches({len(self)} batches)'
