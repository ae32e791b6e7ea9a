package store

import (
	"context"
	"errors"
)

// batchWriter stores batches durably: the statements of batch.go, run its
// database's way.
type batchWriter interface {
	// write stores one batch, committed when it returns; false when its
	// DedupKey is stored already.
	write(ctx context.Context, b preparedBatch) (stored bool, err error)
	// close stops the writer; writes after it return errClosed.
	close()
}

// errClosed is what AddBatch returns after Close.
var errClosed = errors.New("the store is closed")
