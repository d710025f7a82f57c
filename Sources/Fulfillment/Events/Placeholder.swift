// The Events target's first file: replaced by its owner as the target takes shape (see /work/fulfillment-spec.md).
