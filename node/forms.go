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
	body[last] = toBinary("AnsV_", fTuple(fAtom("ok"), body[last]))
	return fTry(ergoetf.List(body),
		fCatchClause(fAtom("throw"), fVar("T"), toBinary("AnsT_", fTuple(fAtom("ok"), fVar("T")))),
		fCatchClause(fVar("C"), fVar("R"), toBinary("AnsE_", fTuple(fAtom("error"), fVar("C"), fVar("R")))),
	)
}

// compressFrom is the size of the encoded answer from which it is
// compressed: large answers (a cluster with thousands of hosts repeats
// itself a lot) shrink several times at little cost, while compressing a
// small one costs both sides more (zlib's set-up) than it saves.
const compressFrom = 16384

// toBinary is, with v a variable name of its own,
//
//	begin V = E, term_to_binary(V, [{compressed, min(1, erlang:external_size(V) div 16384)}]) end
//
// (compression level 0 is none).
func toBinary(v string, e ergoetf.Term) ergoetf.Tuple {
	level := fCall("erlang", "min", ergoetf.Tuple{ergoetf.Atom("integer"), line, 1},
		ergoetf.Tuple{ergoetf.Atom("op"), line, ergoetf.Atom("div"),
			fCall("erlang", "external_size", fVar(v)), ergoetf.Tuple{ergoetf.Atom("integer"), line, compressFrom}})
	opts := ergoetf.Tuple{ergoetf.Atom("cons"), line,
		fTuple(fAtom("compressed"), level),
		ergoetf.Tuple{ergoetf.Atom("nil"), line}}
	return ergoetf.Tuple{ergoetf.Atom("block"), line, ergoetf.List{
		fMatch(fVar(v), e),
		fCall("erlang", "term_to_binary", fVar(v), opts),
	}}
}

// applyForm is
//
//	try term_to_binary({ok, erlang:apply(M, F, A)})
//	catch throw:T -> term_to_binary({ok, T}); C:R -> term_to_binary({error, C, R}) end
var applyForm = guarded(fCall("erlang", "apply", fVar("M"), fVar("F"), fVar("A")))

// fList is the list [Es...] as an expression or pattern.
func fList(es ...ergoetf.Term) ergoetf.Term {
	var l ergoetf.Term = ergoetf.Tuple{ergoetf.Atom("nil"), line}
	for i := len(es) - 1; i >= 0; i-- {
		l = ergoetf.Tuple{ergoetf.Atom("cons"), line, es[i], l}
	}
	return l
}

// fFun is `fun Clause; ... end`; each clause is fClause's.
func fFun(clauses ...ergoetf.Term) ergoetf.Tuple {
	return ergoetf.Tuple{ergoetf.Atom("fun"), line, ergoetf.Tuple{ergoetf.Atom("clauses"), ergoetf.List(clauses)}}
}

// fClause is `(Patterns...) -> Body`.
func fClause(patterns ergoetf.List, body ...ergoetf.Term) ergoetf.Tuple {
	return ergoetf.Tuple{ergoetf.Atom("clause"), line, patterns, ergoetf.List{}, ergoetf.List(body)}
}

// localFunctions is the local function handler of every evaluation,
// {eval, Handler}. It gives sources one local function:
//
//	spawn_eval(Bindings, Expr) -> Pid
//
// evaluates Expr in a new process with Bindings (a map from variable name
// to value, e.g. #{'Self' => Self}) as its only variables:
// spawn_opt(erl_eval, exprs, [[Expr], Bindings, none], [{min_heap_size,
// spawnHeapWords}]) (a heap large enough for erl_eval's garbage spares the
// process most of its garbage collections). Expr reaches the handler
// unevaluated, as data, so, unlike spawn(fun() -> Expr end), it creates
// no fun: erl_eval lints the body of every fun it creates, which for a
// large body costs more than a small node's calls (erl_eval:exprs/3 does
// not lint; exprs/2 would). And few variables make erl_eval faster: it
// merges all bindings at every argument of every call. Any other local
// function raises {undefined_local_function, Name, Arity}.
//
// Sources meant to be fast avoid, for the same reason, funs (a fun's body
// is linted each time the fun is created) and map patterns (erl_eval
// lints each key of a map pattern each time it matches): guards with
// is_map_key/2 and map_get/2 do the same work without erl_lint.
const spawnHeapWords = 4096

var localFunctions = fTuple(fAtom("eval"), fFun(
	// (spawn_eval, [BsE, E], Bs) ->
	//     {value, NewBs, _} = erl_eval:expr(BsE, Bs, none),
	//     {value, spawn_opt(erl_eval, exprs, [[E], case is_map(Bs) of true -> NewBs; false -> maps:to_list(NewBs) end, none],
	//                       [{min_heap_size, spawnHeapWords}]), Bs};
	fClause(ergoetf.List{fAtom("spawn_eval"), fList(fVar("SpawnBsE_"), fVar("SpawnExpr_")), fVar("SpawnBs_")},
		fMatch(fTuple(fAtom("value"), fVar("SpawnNewBs_"), fVar("_")),
			fCall("erl_eval", "expr", fVar("SpawnBsE_"), fVar("SpawnBs_"), fAtom("none"))),
		fTuple(fAtom("value"),
			fCall("erlang", "spawn_opt", fAtom("erl_eval"), fAtom("exprs"),
				fList(fList(fVar("SpawnExpr_")),
					ergoetf.Tuple{ergoetf.Atom("case"), line, fCall("erlang", "is_map", fVar("SpawnBs_")), ergoetf.List{
						fClause(ergoetf.List{fAtom("true")}, fVar("SpawnNewBs_")),
						fClause(ergoetf.List{fAtom("false")}, fCall("maps", "to_list", fVar("SpawnNewBs_"))),
					}},
					fAtom("none")),
				fList(fTuple(fAtom("min_heap_size"), ergoetf.Tuple{ergoetf.Atom("integer"), line, spawnHeapWords}))),
			fVar("SpawnBs_"))),
	fClause(ergoetf.List{fVar("Name_"), fVar("Args_"), fVar("_")},
		fCall("erlang", "error", fTuple(fAtom("undefined_local_function"), fVar("Name_"), fCall("erlang", "length", fVar("Args_"))))),
))

// mapBindings is the bindings Bs (an orddict, as sent) as erl_eval's
// map bindings where erl_eval takes them (OTP 25+):
//
//	case catch erl_eval:binding(k, #{k => 1}) of {value, 1} -> maps:from_list(Bs); _ -> Bs end
//
// erl_eval merges the bindings at every argument of every call it
// evaluates; an orddict makes that quadratic in the number of variables,
// a map linear, which makes a gather of a small node twice as fast.
var mapBindings = ergoetf.Tuple{ergoetf.Atom("case"), line,
	ergoetf.Tuple{ergoetf.Atom("catch"), line, fCall("erl_eval", "binding", fAtom("k"),
		ergoetf.Tuple{ergoetf.Atom("map"), line, ergoetf.List{
			ergoetf.Tuple{ergoetf.Atom("map_field_assoc"), line, fAtom("k"), ergoetf.Tuple{ergoetf.Atom("integer"), line, 1}}}})},
	ergoetf.List{
		fClause(ergoetf.List{fTuple(fAtom("value"), ergoetf.Tuple{ergoetf.Atom("integer"), line, 1})}, fCall("maps", "from_list", fVar("Bs"))),
		fClause(ergoetf.List{fVar("_")}, fVar("Bs")),
	}}

// exprsCall is erl_eval:exprs(Es, mapBindings, localFunctions).
var exprsCall = fCall("erl_eval", "exprs", fVar("Es"), mapBindings, localFunctions)

// parseEvalForm parses the source text Src, evaluates it with the
// bindings Bs, and returns the value with the parsed expressions,
// {V, term_to_binary(Es, [{compressed, 9}])}, so later calls can skip
// parsing (see evalParsedForm). Compressed, a gather's form is a few KB:
// it fits ergo's pooled 16 KB send buffer (a larger message costs ergo a
// 128 KB allocation per call), and inflating it costs the node little.
var parseEvalForm = guarded(
	fMatch(fTuple(fAtom("ok"), fVar("Ts"), fVar("_")),
		fCall("erl_scan", "string", fCall("erlang", "binary_to_list", fVar("Src")))),
	fMatch(fTuple(fAtom("ok"), fVar("Es")), fCall("erl_parse", "parse_exprs", fVar("Ts"))),
	fMatch(fTuple(fAtom("value"), fVar("V"), fVar("_")), exprsCall),
	fTuple(fVar("V"), fCall("erlang", "term_to_binary", fVar("Es"), fList(fTuple(fAtom("compressed"), ergoetf.Tuple{ergoetf.Atom("integer"), line, 9})))),
)

// evalHeapWords is the minimum heap of the process that evaluates a parsed
// source (rex's worker for the call): the form and erl_eval's garbage
// then cost one garbage collection instead of a dozen.
const evalHeapWords = 32768

// evalParsedForm evaluates expressions parsed before, EsBin being what
// parseEvalForm returned:
//
//	process_flag(min_heap_size, evalHeapWords),
//	Es = binary_to_term(EsBin),
//	{value, V, _} = erl_eval:exprs(Es, Bs, LocalFunctions), term_to_binary({ok, V})
var evalParsedForm = guarded(
	fCall("erlang", "process_flag", fAtom("min_heap_size"), ergoetf.Tuple{ergoetf.Atom("integer"), line, evalHeapWords}),
	fMatch(fVar("Es"), fCall("erlang", "binary_to_term", fVar("EsBin"))),
	fMatch(fTuple(fAtom("value"), fVar("V"), fVar("_")), exprsCall),
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
