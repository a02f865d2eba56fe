"""One pass: read iLert and the pages, decide (``core``), write, keep the books."""
