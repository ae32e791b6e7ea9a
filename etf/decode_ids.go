package etf

import (
	"bytes"
	"encoding/binary"
)

// Decoding of pids, ports, references and funs: terms that name things
// on a node.

func (d *decoder) pid(tag byte, at int) (Term, error) {
	var p Pid
	var err error
	if p.Node, err = d.atom("pid node"); err != nil {
		return nil, err
	}
	if p.ID, err = d.u32(at, "pid"); err != nil {
		return nil, err
	}
	if p.Serial, err = d.u32(at, "pid"); err != nil {
		return nil, err
	}
	if tag == tagPid {
		c, err := d.u8(at, "pid")
		p.Creation = uint32(c)
		if err != nil {
			return nil, err
		}
	} else if p.Creation, err = d.u32(at, "pid"); err != nil {
		return nil, err
	}
	return p, nil
}

func (d *decoder) port(tag byte, at int) (Term, error) {
	var p Port
	var err error
	if p.Node, err = d.atom("port node"); err != nil {
		return nil, err
	}
	switch tag {
	case tagV4Port:
		p.ID, err = d.u64(at, "port")
	default:
		var id uint32
		id, err = d.u32(at, "port")
		p.ID = uint64(id)
	}
	if err != nil {
		return nil, err
	}
	if tag == tagPort {
		c, err := d.u8(at, "port")
		p.Creation = uint32(c)
		if err != nil {
			return nil, err
		}
	} else if p.Creation, err = d.u32(at, "port"); err != nil {
		return nil, err
	}
	return p, nil
}

func (d *decoder) ref(tag byte, at int) (Term, error) {
	n := uint16(1)
	var err error
	if tag != tagRef {
		if n, err = d.u16(at, "reference length"); err != nil {
			return nil, err
		}
	}
	var r Ref
	if r.Node, err = d.atom("reference node"); err != nil {
		return nil, err
	}
	if tag == tagRef {
		id, err := d.u32(at, "reference")
		if err != nil {
			return nil, err
		}
		r.IDs = []uint32{id}
	}
	if tag == tagNewerRef {
		if r.Creation, err = d.u32(at, "reference"); err != nil {
			return nil, err
		}
	} else {
		c, err := d.u8(at, "reference")
		if err != nil {
			return nil, err
		}
		r.Creation = uint32(c)
	}
	if tag != tagRef {
		p, err := d.next(4*uint64(n), at, "reference")
		if err != nil {
			return nil, err
		}
		r.IDs = make([]uint32, n)
		for i := range r.IDs {
			r.IDs[i] = binary.BigEndian.Uint32(p[4*i:])
		}
	}
	return r, nil
}

// newFun decodes NEW_FUN_EXT, checking every field, and keeps its bytes.
func (d *decoder) newFun(at int) (Term, error) {
	sizeAt := d.off
	size, err := d.u32(at, "NEW_FUN_EXT size")
	if err != nil {
		return nil, err
	}
	// Size counts itself; the fixed fields after it take 25 bytes.
	if size < 4+25 {
		return nil, d.errorf(at, errMalformed, "NEW_FUN_EXT size %d", size)
	}
	if uint64(size)-4 > uint64(d.avail()) {
		return nil, d.errorf(at, errTruncated, "NEW_FUN_EXT of %d bytes", size)
	}
	end := sizeAt + int(size)
	if _, err := d.next(1+16+4, at, "NEW_FUN_EXT"); err != nil { // arity, uniq, index
		return nil, err
	}
	numFree, err := d.u32(at, "NEW_FUN_EXT")
	if err != nil {
		return nil, err
	}
	module, err := d.atom("fun module")
	if err != nil {
		return nil, err
	}
	if err := d.enter(at); err != nil {
		return nil, err
	}
	if err := d.funFields(at, numFree, "old index", "old uniq", "pid"); err != nil {
		return nil, err
	}
	d.leave()
	if d.off != end {
		return nil, d.errorf(at, errMalformed, "NEW_FUN_EXT size %d but %d bytes", size, d.off-sizeAt)
	}
	return Fun{Module: module, Raw: bytes.Clone(d.b[at:end])}, nil
}

// oldFun decodes FUN_EXT, which OTP no longer emits, and keeps its bytes.
func (d *decoder) oldFun(at int) (Term, error) {
	numFree, err := d.u32(at, "FUN_EXT")
	if err != nil {
		return nil, err
	}
	if err := d.enter(at); err != nil {
		return nil, err
	}
	pid, err := d.term()
	if err != nil {
		return nil, err
	}
	if _, ok := pid.(Pid); !ok {
		return nil, d.errorf(at, errMalformed, "FUN_EXT pid is %T", pid)
	}
	module, err := d.atom("fun module")
	if err != nil {
		return nil, err
	}
	if err := d.funFields(at, numFree, "index", "uniq"); err != nil {
		return nil, err
	}
	d.leave()
	return Fun{Module: module, Raw: bytes.Clone(d.b[at:d.off])}, nil
}

// funFields decodes the fields of a fun that are terms: the integers and
// pid named by fields, then numFree free variables.
func (d *decoder) funFields(at int, numFree uint32, fields ...string) error {
	for _, f := range fields {
		t, err := d.term()
		if err != nil {
			return err
		}
		ok := false
		switch t.(type) {
		case int64:
			ok = f != "pid"
		case Pid:
			ok = f == "pid"
		}
		if !ok {
			return d.errorf(at, errMalformed, "fun %s is %T", f, t)
		}
	}
	if err := d.reserve(uint64(numFree), uint64(numFree), at, "fun free variables"); err != nil {
		return err
	}
	for range numFree {
		if _, err := d.elem(); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) export(at int) (Term, error) {
	var e Export
	var err error
	if e.Module, err = d.atom("export module"); err != nil {
		return nil, err
	}
	if e.Function, err = d.atom("export function"); err != nil {
		return nil, err
	}
	tag, err := d.u8(at, "export arity")
	if err != nil {
		return nil, err
	}
	if tag != tagSmallInt {
		return nil, d.errorf(at, errMalformed, "export arity tag %d", tag)
	}
	a, err := d.u8(at, "export arity")
	if err != nil {
		return nil, err
	}
	e.Arity = int(a)
	return e, nil
}
