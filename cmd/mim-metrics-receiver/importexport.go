package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/mim-metrics/mim-metrics/receiver"
	"github.com/mim-metrics/mim-metrics/store"
)

// runImport stores report files, one line of outcome per file.
func runImport(ctx context.Context, c *config, stdin io.Reader, stdout io.Writer) error {
	st, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	opt := receiver.ImportOptions{Property: c.importProperty, Kind: store.Kind(c.importKind), ClientID: c.clientID}
	for _, name := range c.files {
		var data []byte
		if name == "-" {
			data, err = io.ReadAll(io.LimitReader(stdin, 1<<30))
		} else {
			data, err = os.ReadFile(name)
		}
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			return fmt.Errorf("read %s: %w", name, pe.Err)
		} else if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		res, err := receiver.Import(ctx, st, data, opt)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(stdout, "%s: %d batches stored (%d events), %d already stored, %s\n", name, res.Batches, res.Events, res.Duplicates, describeDropped(res.Dropped))
	}
	return nil
}

func describeDropped(d map[string]int) string {
	if len(d) == 0 {
		return "no event dropped"
	}
	var parts []string
	total := 0
	for reason, n := range d {
		parts = append(parts, fmt.Sprintf("%d %s", n, reason))
		total += n
	}
	sort.Strings(parts)
	return fmt.Sprintf("%d events dropped (%s)", total, strings.Join(parts, ", "))
}

// runExport prints every raw event in [since, until) as JSON lines.
func runExport(ctx context.Context, c *config, stdout io.Writer) error {
	st, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := st.Export(ctx, c.from, c.to, func(e store.StoredEvent) error { return enc.Encode(e) }); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
