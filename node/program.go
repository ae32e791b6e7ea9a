package node

import (
	_ "embed"

	ergoetf "github.com/ergo-services/ergo/etf"
)

// The remote side of every call is Erlang evaluated by erl_eval through the
// peer's rex server. Nothing is loaded into the cluster. Answers are
// term_to_binary, so ergo only ever decodes a binary, and our own etf
// package decodes the answer.
//
// What is evaluated is a program: module sources (possibly none) and
// expressions to evaluate, Main, which may call the modules' functions.
// The first evaluation on a node sends the text: erl/prepare.exprs parses
// it, makes each function a fun, and answers with the answer the program's
// runner (erl/run.exprs, a fun). Later evaluations on any node of the same
// release send the runner back instead (runProgram).

var (
	//go:embed erl/prepare.exprs
	prepareExprs string
	//go:embed erl/run.exprs
	runExprs string
)

const line = 1

func fAtom(a string) ergoetf.Tuple { return ergoetf.Tuple{ergoetf.Atom("atom"), line, ergoetf.Atom(a)} }
func fVar(v string) ergoetf.Tuple  { return ergoetf.Tuple{ergoetf.Atom("var"), line, ergoetf.Atom(v)} }
func fInt(n int) ergoetf.Tuple     { return ergoetf.Tuple{ergoetf.Atom("integer"), line, n} }
func fCall(mod, fun string, args ...ergoetf.Term) ergoetf.Tuple {
	return ergoetf.Tuple{ergoetf.Atom("call"), line,
		ergoetf.Tuple{ergoetf.Atom("remote"), line, fAtom(mod), fAtom(fun)},
		ergoetf.List(args)}
}

// prepareProgram, with the bindings Bs (the caller's), Files, Main, Prep
// (erl/prepare.exprs) and Run (erl/run.exprs), is
//
//	{ok, Ts, _} = erl_scan:string(Prep), {ok, Es} = erl_parse:parse_exprs(Ts),
//	element(2, erl_eval:exprs(Es, [{'Bs', Bs}, {'Files', Files}, {'Main', Main}, {'Run', Run}]))
var prepareProgram = fBlock(
	fMatch(fTuple(fAtom("ok"), fVar("Ts"), fVar("_")), fCall("erl_scan", "string", fVar("Prep"))),
	fMatch(fTuple(fAtom("ok"), fVar("Es")), fCall("erl_parse", "parse_exprs", fVar("Ts"))),
	fCall("erlang", "element", fInt(2),
		fCall("erl_eval", "exprs", fVar("Es"),
			fList(fTuple(fAtom("Bs"), fVar("Bs")), fTuple(fAtom("Files"), fVar("Files")),
				fTuple(fAtom("Main"), fVar("Main")), fTuple(fAtom("Run"), fVar("Run"))))),
)

// runProgram, with the bindings Bs (the caller's) and P (a program's
// runner prepared by prepareProgram, encoded), is
//
//	(binary_to_term(P))(Bs)
var runProgram = ergoetf.Tuple{ergoetf.Atom("call"), line, fCall("erlang", "binary_to_term", fVar("P")), ergoetf.List{fVar("Bs")}}

func fTuple(es ...ergoetf.Term) ergoetf.Tuple {
	return ergoetf.Tuple{ergoetf.Atom("tuple"), line, ergoetf.List(es)}
}

func fMatch(pattern, expr ergoetf.Term) ergoetf.Tuple {
	return ergoetf.Tuple{ergoetf.Atom("match"), line, pattern, expr}
}

func fBlock(es ...ergoetf.Term) ergoetf.Tuple {
	return ergoetf.Tuple{ergoetf.Atom("block"), line, ergoetf.List(es)}
}

// fList is the list [Es...] as an expression or pattern.
func fList(es ...ergoetf.Term) ergoetf.Term {
	var l ergoetf.Term = ergoetf.Tuple{ergoetf.Atom("nil"), line}
	for i := len(es) - 1; i >= 0; i-- {
		l = ergoetf.Tuple{ergoetf.Atom("cons"), line, es[i], l}
	}
	return l
}

// bindings builds an erl_eval binding structure (an orddict: a list of
// {Name, Value} sorted by name) from name/value pairs given in order.
func bindings(pairs ...ergoetf.Term) ergoetf.List {
	out := ergoetf.List{}
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, ergoetf.Tuple{pairs[i], pairs[i+1]})
	}
	return out
}
