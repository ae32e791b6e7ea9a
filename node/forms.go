package node

import (
	ergoetf "github.com/ergo-services/ergo/etf"
)

// The remote side of every call is Erlang evaluated by erl_eval through the
// peer's rex server. Nothing is loaded into the cluster. Answers are
// term_to_binary, so ergo only ever decodes a binary, and our own etf
// package decodes the answer.
//
// A source is sent as text once: parseForm has the node parse and prepare
// it (prepareSrc) and bring it back, wrapped (wrapperSrc), as a binary,
// which later calls, on any node, send instead (runForm). A call then
// costs ergo the encoding of a few tuples and a binary, and the node one
// binary_to_term and the evaluation itself.

const line = 1

func fAtom(a string) ergoetf.Tuple { return ergoetf.Tuple{ergoetf.Atom("atom"), line, ergoetf.Atom(a)} }
func fVar(v string) ergoetf.Tuple  { return ergoetf.Tuple{ergoetf.Atom("var"), line, ergoetf.Atom(v)} }
func fCall(mod, fun string, args ...ergoetf.Term) ergoetf.Tuple {
	return ergoetf.Tuple{ergoetf.Atom("call"), line,
		ergoetf.Tuple{ergoetf.Atom("remote"), line, fAtom(mod), fAtom(fun)},
		ergoetf.List(args)}
}

// wrapperSrc is what every evaluation runs, with Es standing for the
// prepared expressions (see prepareSrc) and Bs for the caller's bindings
// (an orddict). It answers term_to_binary of {ok, Value}, of {ok, Thrown}
// for a throw (rpc:call's semantics), or of {error, Class, Reason}.
// Answers from 16 KB up are compressed: large answers (thousands of hosts
// repeat themselves) shrink several times at little cost, while
// compressing a small one costs both sides more (zlib's set-up) than it
// saves. An answer larger than our decoder takes (64 MB,
// etf.DefaultMaxUncompressed) is not encoded at all: the node answers
// {answer_too_large, Size} instead of building a binary we would refuse.
//
// Bindings are a map where erl_eval takes one (OTP 25+): erl_eval merges
// all bindings at every argument of every call it evaluates, which an
// orddict makes quadratic in the number of variables, a map linear.
const wrapperSrc = `
try
    {value, V, _} = erl_eval:exprs(Es, case catch erl_eval:binding(k, #{k => 1}) of {value, 1} -> maps:from_list(Bs); _ -> Bs end, none, none),
    case erlang:external_size(V) of
        VSize when VSize > 67108864 -> term_to_binary({error, error, {answer_too_large, VSize}});
        VSize -> term_to_binary({ok, V}, [{compressed, erlang:min(1, VSize div 16384)}])
    end
catch
    C:R -> rarely(#{'C' => C, 'R' => R},
                  case C of
                      throw ->
                          case erlang:external_size(R) of
                              TSize when TSize > 67108864 -> term_to_binary({error, error, {answer_too_large, TSize}});
                              TSize -> term_to_binary({ok, R}, [{compressed, erlang:min(1, TSize div 16384)}])
                          end;
                      _ ->
                          case erlang:external_size(R) of
                              RSize when RSize > 67108864 -> term_to_binary({error, C, {reason_too_large, RSize}});
                              RSize -> term_to_binary({error, C, R}, [{compressed, erlang:min(1, RSize div 16384)}])
                          end
                  end)
end.
`

// prepareSrc parses Src, prepares it, puts it into Wrap (wrapperSrc, its
// Es replaced by the prepared expressions as a literal), evaluates that
// with the caller's bindings Bs, and answers
// term_to_binary({prepared, Answer, term_to_binary(Wrapped, [compressed])}),
// or term_to_binary({error, Class, Reason}) when Src does not parse. A
// later evaluation sends the wrapped binary back (runForm): the node
// decodes it with one binary_to_term, and compressed (a gather is a few
// KB) it fits ergo's pooled 16 KB send buffer.
//
// Preparing does this, all so that evaluating costs less:
//
//   - A call to a named function, Mod:Fun(Args) outside guards, becomes a
//     call of the literal fun Mod:Fun/Arity (an export fun, as fun
//     Mod:Fun/Arity itself becomes). erl_eval evaluates a remote call's
//     module and function as expressions and merges their bindings, and
//     the form carries four atoms for it instead of two: 10% of a gather
//     in-node. Guards keep their calls: erl_eval's guard evaluator takes
//     only BIF calls.
//
//   - A constant written binary_to_term(list_to_binary("...")) is decoded
//     here, once, and becomes a literal: {string, Anno, Value} for a list
//     (erl_eval returns a string node's value as it is, whatever it holds)
//     or hd({string, Anno, [Value]}).
//
//   - Sources get one function of their own,
//
//     spawn_eval(Bindings, Expr) -> Pid
//
//     which evaluates Expr in a new process with Bindings (a map from
//     variable name to value, e.g. #{'Self' => Self}) as its only
//     variables. Each call becomes erlang:spawn_opt(erl_eval, exprs,
//     [Stub, [{'B', BodyBin}, {'Bs', maps:to_list(Bindings)}], none],
//     [{min_heap_size, 16384}]), where Stub is
//     erl_eval:exprs(binary_to_term(B), [{'Bs', Bs}], none) and BodyBin,
//     encoded here once (term_to_binary), is erl_eval:exprs([Expr],
//     Bs as a map where erl_eval takes one, none): the new process decodes
//     its body, and the check for map bindings, itself. Decoded by the
//     caller, the body would be decoded there and then copied into the
//     new process (in-node: 5% of a gather). Unlike spawn(fun() -> Expr
//     end) it creates no fun: erl_eval lints the body of every fun it
//     creates, which for a large body costs more than a small node's
//     calls. The heap spares the process most of its garbage collections.
//     spawn_eval inside a spawned body is refused.
//
//   - Two more functions, for the variables an expression sees:
//
//     scope(Bindings, Expr) -> Value
//     rarely(Bindings, Expr) -> Value
//
//     both evaluate Expr with Bindings as its only variables and answer
//     its value; the variables Expr binds do not outlive it. scope keeps
//     Expr in the form (it becomes erl_eval:exprs([Expr], Bindings,
//     none)): erl_eval merges every variable bound at every argument it
//     evaluates, so a part that needs few of the variables around it
//     costs less in a scope of its own. rarely keeps Expr encoded, as
//     spawn_eval does, and decodes it only when it is evaluated (with
//     Bindings as an orddict, which every release takes): for the
//     branches a source seldom takes (failures), which then cost an
//     evaluation nothing, as decoding the form costs about 90 ns an
//     atom. The wrapper's own catch is such a branch.
//
// Sources meant to be fast avoid funs for the same reason, and map patterns
// (erl_eval lints each key of a map pattern each time it matches): guards
// with is_map_key/2 and map_get/2 do the same work without erl_lint. And
// they keep few variables bound: erl_eval merges all bindings at every
// argument of every call.
const prepareSrc = `
try
    {ok, Ts, _} = erl_scan:string(binary_to_list(Src)),
    {ok, Es0} = erl_parse:parse_exprs(Ts),
    HasSpawn = fun HS({call, _, {atom, _, spawn_eval}, _}) -> true;
                   HS(T) when is_tuple(T) -> HS(tuple_to_list(T));
                   HS(L) when is_list(L) -> lists:any(HS, L);
                   HS(_) -> false
               end,
    IfMapBindings = fun(A, Then, Else) ->
                            {'case', A, {'catch', A, {call, A, {remote, A, {atom, A, erl_eval}, {atom, A, binding}},
                                                     [{atom, A, k}, {map, A, [{map_field_assoc, A, {atom, A, k}, {integer, A, 1}}]}]}},
                             [{clause, A, [{tuple, A, [{atom, A, value}, {integer, A, 1}]}], [], [Then]},
                              {clause, A, [{var, A, '_'}], [], [Else]}]}
                    end,
    ToList = fun(A, BsE) -> {call, A, {remote, A, {atom, A, maps}, {atom, A, to_list}}, [BsE]} end,
    BsOf = fun(A, BsE) -> IfMapBindings(A, BsE, ToList(A, BsE)) end,
    Encoded = fun(A, Es) -> {call, A, {atom, A, hd}, [{string, A, [term_to_binary(Es)]}]} end,
    Prepare = fun P({call, A, {atom, _, spawn_eval}, [BsE, E0]}) ->
                      case HasSpawn(E0) of
                          true -> erlang:error({nested_spawn_eval, A});
                          false -> ok
                      end,
                      Body = P([{call, A, {remote, A, {atom, A, erl_eval}, {atom, A, exprs}},
                                 [{string, A, [P(E0)]},
                                  IfMapBindings(A, {call, A, {remote, A, {atom, A, maps}, {atom, A, from_list}}, [{var, A, 'Bs'}]},
                                                {var, A, 'Bs'}),
                                  {atom, A, none}]}]),
                      Stub = P([{call, A, {remote, A, {atom, A, erl_eval}, {atom, A, exprs}},
                                 [{call, A, {remote, A, {atom, A, erlang}, {atom, A, binary_to_term}}, [{var, A, 'B'}]},
                                  {cons, A, {tuple, A, [{atom, A, 'Bs'}, {var, A, 'Bs'}]}, {nil, A}},
                                  {atom, A, none}]}]),
                      StubBs = {cons, A, {tuple, A, [{atom, A, 'B'}, Encoded(A, Body)]},
                                {cons, A, {tuple, A, [{atom, A, 'Bs'}, ToList(A, BsE)]}, {nil, A}}},
                      P({call, A, {remote, A, {atom, A, erlang}, {atom, A, spawn_opt}},
                         [{atom, A, erl_eval}, {atom, A, exprs},
                          {cons, A, {string, A, Stub}, {cons, A, StubBs, {cons, A, {atom, A, none}, {nil, A}}}},
                          {string, A, [{min_heap_size, 16384}]}]});
                  P({call, A, {atom, _, rarely}, [BsE, E0]}) ->
                      P({call, A, {atom, A, element},
                         [{integer, A, 2},
                          {call, A, {remote, A, {atom, A, erl_eval}, {atom, A, exprs}},
                           [{call, A, {atom, A, binary_to_term}, [Encoded(A, [P(E0)])]}, ToList(A, BsE), {atom, A, none}]}]});
                  P({call, A, {atom, _, scope}, [BsE, E0]}) ->
                      P({call, A, {atom, A, element},
                         [{integer, A, 2},
                          {call, A, {remote, A, {atom, A, erl_eval}, {atom, A, exprs}},
                           [{string, A, [P(E0)]}, BsOf(A, BsE), {atom, A, none}]}]});
                  P({call, A, {atom, _, scope}, Args}) ->
                      erlang:error({bad_scope, A, length(Args)});
                  P({call, A, {atom, _, rarely}, Args}) ->
                      erlang:error({bad_rarely, A, length(Args)});
                  P({call, A, {atom, _, spawn_eval}, Args}) ->
                      erlang:error({bad_spawn_eval, A, length(Args)});
                  P({call, A, {atom, _, binary_to_term}, [{call, _, {atom, _, list_to_binary}, [{string, _, S}]}]} = C) ->
                      try binary_to_term(list_to_binary(S)) of
                          L when is_list(L) -> {string, A, L};
                          T -> {call, A, {atom, A, hd}, [{string, A, [T]}]}
                      catch _:_ -> C
                      end;
                  P({call, A, {remote, _, {atom, _, M}, {atom, _, F}}, As}) when M =/= qlc ->
                      {call, A, {string, A, erlang:make_fun(M, F, length(As))}, P(As)};
                  P({'fun', A, {function, {atom, _, M}, {atom, _, F}, {integer, _, N}}}) ->
                      {string, A, erlang:make_fun(M, F, N)};
                  P({clause, A, Ps, Gs, B}) -> {clause, A, Ps, Gs, P(B)};
                  P({string, _, _} = S) -> S;
                  P(T) when is_tuple(T) -> list_to_tuple(P(tuple_to_list(T)));
                  P(L) when is_list(L) -> [P(X) || X <- L];
                  P(X) -> X
              end,
    Es = Prepare(Es0),
    {ok, WTs, _} = erl_scan:string(Wrap),
    {ok, WEs0} = erl_parse:parse_exprs(WTs),
    Wrapped = fun W({var, A, 'Es'}) -> {string, A, Es};
                  W(T) when is_tuple(T) -> list_to_tuple(W(tuple_to_list(T)));
                  W(L) when is_list(L) -> [W(X) || X <- L];
                  W(X) -> X
              end(Prepare(WEs0)),
    {value, Ans, _} = erl_eval:exprs(Wrapped, [{'Bs', Bs}], none, none),
    term_to_binary({prepared, Ans, term_to_binary(Wrapped, [{compressed, 9}])})
catch
    C:R -> term_to_binary({error, C, R})
end.
`

// parseForm, with bindings Bs (an orddict of the caller's variables), Prep
// (prepareSrc), Src (the source) and Wrap (wrapperSrc), is
//
//	{ok, PTs, _} = erl_scan:string(Prep), {ok, PEs} = erl_parse:parse_exprs(PTs),
//	element(2, erl_eval:exprs(PEs, [{'Bs', Bs}, {'Src', Src}, {'Wrap', Wrap}]))
var parseForm = fBlock(
	fMatch(fTuple(fAtom("ok"), fVar("PTs"), fVar("_")), fCall("erl_scan", "string", fVar("Prep"))),
	fMatch(fTuple(fAtom("ok"), fVar("PEs")), fCall("erl_parse", "parse_exprs", fVar("PTs"))),
	fCall("erlang", "element", ergoetf.Tuple{ergoetf.Atom("integer"), line, 2},
		fCall("erl_eval", "exprs", fVar("PEs"),
			fList(fTuple(fAtom("Bs"), fVar("Bs")), fTuple(fAtom("Src"), fVar("Src")), fTuple(fAtom("Wrap"), fVar("Wrap"))))),
)

// runForm, with bindings Bs (the caller's, an orddict) and P (a prepared
// source, see prepareSrc), is
//
//	process_flag(min_heap_size, 65536), garbage_collect(),
//	element(2, erl_eval:exprs(binary_to_term(P), [{'Bs', Bs}], none, none))
//
// the wrapper's answer. rex starts its worker with the smallest heap; grown
// first (one collection of an empty heap), it holds the decoded form and
// erl_eval's garbage without growing step by step, each step copying the
// form: in-node, a gather in a fresh process cost 13% less (387 → 337 µs)
// with the heap set before decoding than after it. 65,536 words (512 KB,
// freed when the call ends) cost a gather through rex 2-6% less CPU than
// 32,768.
var runForm = fBlock(
	fLocal("process_flag", fAtom("min_heap_size"), ergoetf.Tuple{ergoetf.Atom("integer"), line, 65536}),
	fLocal("garbage_collect"),
	fCall("erlang", "element", ergoetf.Tuple{ergoetf.Atom("integer"), line, 2},
		fCall("erl_eval", "exprs", fCall("erlang", "binary_to_term", fVar("P")), fList(fTuple(fAtom("Bs"), fVar("Bs"))), fAtom("none"), fAtom("none"))),
)

// fLocal is a call of the auto-imported function fun (a BIF).
func fLocal(fun string, args ...ergoetf.Term) ergoetf.Tuple {
	return ergoetf.Tuple{ergoetf.Atom("call"), line, fAtom(fun), ergoetf.List(args)}
}

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
