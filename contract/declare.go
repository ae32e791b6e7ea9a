package contract

import (
	"fmt"
	"slices"
	"sort"

	"github.com/mim-metrics/mim-metrics/etf"
)

// declared reads the -metric attributes of one of the gathering's modules
// (see Declaration). An attribute is a map:
//
//	event    the event's name (an atom); without it, fields the collector
//	         uses itself and never reports
//	doc      what the event means (a string: the README's "meaning")
//	params   its param names (atoms), or handlers / transports for the
//	         whitelists of HTTP handlers and transports
//	numbers  the params whose values are numbers, each {Name, Min, Max}:
//	         its plausible range (the receiver drops values outside)
//	fields   the fields the gather computes for it: Name, or {Name, Opts}
//	         with Opts a list of quick, {needs, Feature}, {since, {3, 7, 0}}
//	atoms    the params whose values are Erlang atoms (module and backend
//	         names, modes): the receiver drops any other text
//	events   how the answer becomes events: a builder of the sidecar's
//	         (metrics/declared.go)
//
// An event both modules send is described (doc, params, numbers) once, in
// the first module read (known).
func declared(module string, known []Declaration) ([]Declaration, error) {
	terms, err := attributes(ErlModule(module), "metric")
	if err != nil {
		return nil, fmt.Errorf("%s.erl: %w", module, err)
	}
	var out []Declaration
	for _, t := range terms {
		m, err := declaration(t.term, known)
		if err != nil {
			return nil, fmt.Errorf("%s.erl, line %d: -metric: %w", module, t.line, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// declaration is one -metric attribute's declaration.
func declaration(t etf.Term, known []Declaration) (Declaration, error) {
	var m Declaration
	d, ok := t.(etf.Map)
	if !ok {
		return m, fmt.Errorf("want a map #{event => ..., fields => [...], ...}, got %s", show(t))
	}
	for _, kv := range d {
		if k, _ := kv.Key.(etf.Atom); !slices.Contains([]string{"event", "doc", "params", "numbers", "atoms", "fields", "events"}, string(k)) {
			return m, fmt.Errorf("unknown key %s (keys: event, doc, params, numbers, atoms, fields, events)", show(kv.Key))
		}
	}
	fields, ok := value(d, "fields").(etf.List)
	if !ok || len(fields) == 0 {
		return m, fmt.Errorf("fields: want a list of the fields it needs, got %s", show(value(d, "fields")))
	}
	for _, f := range fields {
		fl, err := fieldOf(f)
		if err != nil {
			return m, fmt.Errorf("fields: %w", err)
		}
		m.Fields = append(m.Fields, fl)
	}
	name, hasEvent := d.GetAtom("event")
	if !hasEvent {
		if len(d) != 1 {
			return m, fmt.Errorf("a declaration without an event has only fields")
		}
		return m, nil
	}
	event, ok := name.(etf.Atom)
	if !ok {
		return m, fmt.Errorf("event: want an atom, got %s", show(name))
	}
	m.Name = string(event)
	if err := m.describe(d, known); err != nil {
		return m, fmt.Errorf("event %s: %w", event, err)
	}
	how, ok := value(d, "events").(etf.Atom)
	if !ok {
		return m, fmt.Errorf("event %s: events: want the name of a builder (count, each_value, flags...), got %s", event, show(value(d, "events")))
	}
	m.Builder = string(how)
	m.Flags = how == "flags"
	return m, nil
}

// describe sets m's doc, params and numbers from d, or from the metric of
// the same event in known when d has none.
func (m *Declaration) describe(d etf.Map, known []Declaration) error {
	doc, hasDoc := d.GetAtom("doc")
	if !hasDoc {
		for _, k := range known {
			if k.Name == m.Name {
				_, hasParams := d.GetAtom("params")
				_, hasNumbers := d.GetAtom("numbers")
				_, hasAtoms := d.GetAtom("atoms")
				if hasParams || hasNumbers || hasAtoms {
					return fmt.Errorf("params, numbers or atoms without a doc: %s is described in the first module, give it there", m.Name)
				}
				m.Doc, m.Params, m.Numbers, m.Ranges, m.Atoms, m.ParamsFrom = k.Doc, k.Params, k.Numbers, k.Ranges, k.Atoms, k.ParamsFrom
				return nil
			}
		}
		return fmt.Errorf("doc: say what the event means")
	}
	var ok bool
	if m.Doc, ok = erlString(doc); !ok || m.Doc == "" {
		return fmt.Errorf(`doc: want a string, "what it means", got %s`, show(doc))
	}
	switch p := value(d, "params").(type) {
	case etf.Atom:
		if p != "handlers" && p != "transports" {
			return fmt.Errorf("params: want a list of names, handlers or transports, got %s", p)
		}
		m.ParamsFrom = string(p)
	default:
		names, err := atomList(p)
		if err != nil || len(names) == 0 {
			return fmt.Errorf("params: want a list of names, got %s", show(p))
		}
		m.Params = names
	}
	if n, ok := d.GetAtom("numbers"); ok {
		l, ok := n.(etf.List)
		if !ok {
			return fmt.Errorf("numbers: want a list of {Name, Min, Max}, got %s", show(n))
		}
		m.Ranges = map[string]Range{}
		for _, e := range l {
			name, r, err := rangeOf(e)
			if err != nil {
				return fmt.Errorf("numbers: %w", err)
			}
			if !slices.Contains(m.Params, name) {
				return fmt.Errorf("numbers: %s is not one of the params %v", name, m.Params)
			}
			m.Numbers = append(m.Numbers, name)
			m.Ranges[name] = r
		}
	}
	if a, ok := d.GetAtom("atoms"); ok {
		names, err := atomList(a)
		if err != nil {
			return fmt.Errorf("atoms: want a list of param names, got %s", show(a))
		}
		for _, name := range names {
			if !slices.Contains(m.Params, name) || slices.Contains(m.Numbers, name) {
				return fmt.Errorf("atoms: %s is not one of the params %v that are not numbers", name, m.Params)
			}
		}
		m.Atoms = names
	}
	return nil
}

// rangeOf is a numbers element: {Name, Min, Max}.
func rangeOf(t etf.Term) (string, Range, error) {
	tup, ok := t.(etf.Tuple)
	if ok && len(tup) == 3 {
		name, ok1 := tup[0].(etf.Atom)
		lo, ok2 := tup[1].(int64)
		hi, ok3 := tup[2].(int64)
		if ok1 && ok2 && ok3 && lo <= hi {
			return string(name), Range{Min: lo, Max: hi}, nil
		}
	}
	return "", Range{}, fmt.Errorf("want {Name, Min, Max} with Min <= Max (the plausible range), got %s", show(t))
}

// fieldOf is a fields element: Name or {Name, [quick, {needs, F}, {since, {X, Y, Z}}]}.
func fieldOf(t etf.Term) (Field, error) {
	if name, ok := t.(etf.Atom); ok {
		return Field{Name: string(name)}, nil
	}
	tup, ok := t.(etf.Tuple)
	if !ok || len(tup) != 2 {
		return Field{}, fmt.Errorf("want Name or {Name, Options}, got %s", show(t))
	}
	name, ok1 := tup[0].(etf.Atom)
	opts, ok2 := tup[1].(etf.List)
	if !ok1 || !ok2 {
		return Field{}, fmt.Errorf("want {Name, [Option]}, got %s", show(t))
	}
	f := Field{Name: string(name)}
	for _, o := range opts {
		switch o := o.(type) {
		case etf.Atom:
			if o != "quick" {
				return f, fmt.Errorf("%s: unknown option %s (quick, {needs, Feature}, {since, {X, Y, Z}})", name, o)
			}
			f.Quick = true
			continue
		case etf.Tuple:
			if len(o) == 2 && etf.IsAtom(o[0], "needs") {
				if feature, ok := o[1].(etf.Atom); ok {
					f.Feature = string(feature)
					continue
				}
			}
			if len(o) == 2 && etf.IsAtom(o[0], "since") {
				if gen, ok := o[1].(etf.Tuple); ok && len(gen) == 3 {
					ok = true
					for i, n := range gen {
						v, isInt := n.(int64)
						ok = ok && isInt
						f.Since[i] = int(v)
					}
					if ok {
						continue
					}
				}
			}
		}
		return f, fmt.Errorf("%s: unknown option %s (quick, {needs, Feature}, {since, {X, Y, Z}})", name, show(o))
	}
	return f, nil
}

func atomList(t etf.Term) ([]string, error) {
	l, ok := t.(etf.List)
	if !ok {
		return nil, fmt.Errorf("want a list of atoms, got %s", show(t))
	}
	out := make([]string, len(l))
	for i, e := range l {
		a, ok := e.(etf.Atom)
		if !ok {
			return nil, fmt.Errorf("want a list of atoms, got %s", show(t))
		}
		out[i] = string(a)
	}
	return out, nil
}

// value is the value of the atom key of d, nil when d has none.
func value(d etf.Map, key string) etf.Term {
	v, _ := d.GetAtom(key)
	return v
}

// erlString is the text of an Erlang string (a list of characters); any
// other term, an atom or a binary too, is not one.
func erlString(t etf.Term) (string, bool) {
	switch t.(type) {
	case etf.String, etf.List:
		return etf.Text(t)
	}
	return "", false
}

// show is t as Erlang writes it, for an error message; "nothing" when a
// key is missing.
func show(t etf.Term) string {
	if t == nil {
		return "nothing"
	}
	return etf.Format(t)
}

// sortedKeys are m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
