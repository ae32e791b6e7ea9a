package node

import (
	ergoetf "github.com/ergo-services/ergo/etf"
)

// The remote side of every call is an Erlang expression evaluated by
// erl_eval:expr/5 through the peer's rex server. Nothing is loaded into the
// cluster. The expression wraps the result in term_to_binary, so ergo only
// ever decodes a binary, and our own etf package decodes the answer.
//
// The abstract forms are built here by hand; they are what
// erl_parse:parse_exprs returns for the source shown above each builder.

const line = 1

func fAtom(a string) ergoetf.Tuple { return ergoetf.Tuple{ergoetf.Atom("atom"), line, ergoetf.Atom(a)} }
func fVar(v string) ergoetf.Tuple  { return ergoetf.Tuple{ergoetf.Atom("var"), line, ergoetf.Atom(v)} }
func fTuple(es ...ergoetf.Term) ergoetf.Tuple {
	return ergoetf.Tuple{ergoetf.Atom("tuple"), line, ergoetf.List(es)}
}
func fCall(mod, fun string, args ...ergoetf.Term) ergoetf.Tuple {
	return ergoetf.Tuple{ergoetf.Atom("call"), line,
		ergoetf.Tuple{ergoetf.Atom("remote"), line, fAtom(mod), fAtom(fun)},
		ergoetf.List(args)}
}
func fMatch(pattern, expr ergoetf.Term) ergoetf.Tuple {
	return ergoetf.Tuple{ergoetf.Atom("match"), line, pattern, expr}
}

// fCatchClause is `Class:Reason:_ -> Body` in a catch section.
func fCatchClause(class, reason ergoetf.Term, body ...ergoetf.Term) ergoetf.Tuple {
	return ergoetf.Tuple{ergoetf.Atom("clause"), line,
		ergoetf.List{fTuple(class, reason, fVar("_"))}, ergoetf.List{}, ergoetf.List(body)}
}

// fTry is `try Body catch Clauses end`.
func fTry(body ergoetf.List, clauses ...ergoetf.Term) ergoetf.Tuple {
	return ergoetf.Tuple{ergoetf.Atom("try"), line, body, ergoetf.List{}, ergoetf.List(clauses), ergoetf.List{}}
}

// guarded wraps the expressions so that the value V of the last one comes
// back as term_to_binary({ok, V}), a throw T as term_to_binary({ok, T})
// (rpc:call's semantics), and an error or exit as
// term_to_binary({error, Class, Reason}).
func guarded(body ...ergoetf.Term) ergoetf.Tuple {
	last := len(body) - 1
	body[last] = toBinary(fTuple(fAtom("ok"), body[last]))
	return fTry(ergoetf.List(body),
		fCatchClause(fAtom("throw"), fVar("T"), toBinary(fTuple(fAtom("ok"), fVar("T")))),
		fCatchClause(fVar("C"), fVar("R"), toBinary(fTuple(fAtom("error"), fVar("C"), fVar("R")))),
	)
}

// toBinary is term_to_binary(E, [{compressed, 1}]): large answers (a
// cluster with thousands of hosts repeats itself a lot) shrink several
// times at little cost; Erlang leaves small ones uncompressed.
func toBinary(e ergoetf.Term) ergoetf.Tuple {
	opts := ergoetf.Tuple{ergoetf.Atom("cons"), line,
		fTuple(fAtom("compressed"), ergoetf.Tuple{ergoetf.Atom("integer"), line, 1}),
		ergoetf.Tuple{ergoetf.Atom("nil"), line}}
	return fCall("erlang", "term_to_binary", e, opts)
}

// applyForm is
//
//	try term_to_binary({ok, erlang:apply(M, F, A)})
//	catch throw:T -> term_to_binary({ok, T}); C:R -> term_to_binary({error, C, R}) end
var applyForm = guarded(fCall("erlang", "apply", fVar("M"), fVar("F"), fVar("A")))

// evalForm is
//
//	try {ok, Ts, _} = erl_scan:string(binary_to_list(Src)),
//	    {ok, Es} = erl_parse:parse_exprs(Ts),
//	    {value, V, _} = erl_eval:exprs(Es, Bs),
//	    term_to_binary({ok, V})
//	catch ... end
//
// with Src the source text and Bs the bindings visible to it.
var evalForm = guarded(
	fMatch(fTuple(fAtom("ok"), fVar("Ts"), fVar("_")),
		fCall("erl_scan", "string", fCall("erlang", "binary_to_list", fVar("Src")))),
	fMatch(fTuple(fAtom("ok"), fVar("Es")), fCall("erl_parse", "parse_exprs", fVar("Ts"))),
	fMatch(fTuple(fAtom("value"), fVar("V"), fVar("_")), fCall("erl_eval", "exprs", fVar("Es"), fVar("Bs"))),
	fVar("V"),
)

// parseEvalForm is evalForm that also returns the parsed expressions,
// {V, Es}, so later calls can skip parsing (see evalParsedForm).
var parseEvalForm = guarded(
	fMatch(fTuple(fAtom("ok"), fVar("Ts"), fVar("_")),
		fCall("erl_scan", "string", fCall("erlang", "binary_to_list", fVar("Src")))),
	fMatch(fTuple(fAtom("ok"), fVar("Es")), fCall("erl_parse", "parse_exprs", fVar("Ts"))),
	fMatch(fTuple(fAtom("value"), fVar("V"), fVar("_")), fCall("erl_eval", "exprs", fVar("Es"), fVar("Bs"))),
	fTuple(fVar("V"), fVar("Es")),
)

// evalParsedForm evaluates expressions parsed before:
//
//	{value, V, _} = erl_eval:exprs(Es, Bs), term_to_binary({ok, V})
var evalParsedForm = guarded(
	fMatch(fTuple(fAtom("value"), fVar("V"), fVar("_")), fCall("erl_eval", "exprs", fVar("Es"), fVar("Bs"))),
	fVar("V"),
)

// bindings builds an erl_eval binding structure (an orddict: a list of
// {Name, Value} sorted by name) from name/value pairs given in order.
func bindings(pairs ...ergoetf.Term) ergoetf.List {
	out := ergoetf.List{}
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, ergoetf.Tuple{pairs[i], pairs[i+1]})
	}
	return out
}
