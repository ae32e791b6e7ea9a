%% gen_corpus writes the corpus of the etf package's tests: for each term
%% below, NAME.etf holds term_to_binary(Term, Opts) and NAME.txt the term
%% printed with ~tp on one line (io_lib_pretty with an unlimited line
%% length), which etf.Format must reproduce.
%%
%% Regenerate testdata/corpus with
%%
%%     go test ./etf -run TestErlangCorpus -update
%%
%% or by hand:
%%
%%     erlc -o /tmp gen_corpus.erl &&
%%     erl -noshell -pa /tmp -eval 'gen_corpus:main(["corpus"])'
-module(gen_corpus).
-export([main/1]).

main([Dir]) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    lists:foreach(fun(T) -> write(Dir, T) end, terms()),
    halt(0).

write(Dir, {Name, Term}) ->
    write(Dir, {Name, Term, []});
write(Dir, {Name, Term, Opts}) ->
    Bin = term_to_binary(Term, Opts),
    Term = binary_to_term(Bin),
    Txt = io_lib_pretty:print(Term, [{column, 1}, {line_length, 1 bsl 30},
                                     {depth, -1}, {encoding, unicode}]),
    ok = file:write_file(filename:join(Dir, Name ++ ".etf"), Bin),
    ok = file:write_file(filename:join(Dir, Name ++ ".txt"),
                         [unicode:characters_to_binary(Txt), $\n]).

terms() ->
    V2 = {minor_version, 2},
    V0 = {minor_version, 0},
    Y = 42,
    Big = lists:duplicate(200, {<<"localhost">>, mod_disco, [1,2,3], "text"}),
    [%% integers: SMALL_INTEGER_EXT, INTEGER_EXT, SMALL_BIG_EXT, LARGE_BIG_EXT
     {"int_0", 0}, {"int_255", 255}, {"int_256", 256}, {"int_neg1", -1},
     {"int_min32", -2147483648}, {"int_max32", 2147483647},
     {"big_2p31", 2147483648}, {"big_neg_2p31_1", -2147483649},
     {"big_max64", 9223372036854775807}, {"big_2p63", 9223372036854775808},
     {"big_min64", -9223372036854775808}, {"big_min64_1", -9223372036854775809},
     {"big_2p64", 1 bsl 64}, {"big_2p100", 1 bsl 100}, {"big_neg_2p100", -(1 bsl 100)},
     {"big_255_bytes", (1 bsl 2040) - 1}, {"big_large", 1 bsl 2048},
     {"big_neg_large", -(1 bsl 4000) + 12345},
     %% floats: NEW_FLOAT_EXT and, with minor_version 0, FLOAT_EXT
     {"float_0", 0.0}, {"float_neg0", -0.0}, {"float_1", 1.0}, {"float_neg", -1.5},
     {"float_pi", math:pi()}, {"float_big", 1.0e300}, {"float_tiny", 5.0e-324},
     {"float_max", 1.7976931348623157e308}, {"float_tenth", 0.1},
     {"floats_shapes", [10.0, 100.0, 1000.0, 1.0e15, 123456.0, 0.01, 0.0001,
                        1.2e-4, 1.5e-5, 1234.5, 9007199254740992.0,
                        9007199254740990.0, 1.0e23, 3.0e-6, 0.5,
                        1234567890123.0, 1.25e-8, -2.5e-7]},
     {"floats_random", random_floats(600)},
     {"float_old", 1.5, [V0]}, {"floats_old", [0.1, -3.0e-10, 6.02214076e23, 0.0], [V0]},
     %% atoms: ATOM_EXT (latin-1, minor_version 1), SMALL_ATOM_UTF8_EXT,
     %% ATOM_UTF8_EXT
     {"atom_empty", ''}, {"atom_a", a}, {"atom_true", true}, {"atom_false", false},
     {"atom_quoted", ['hello world', 'Caps', '_x', 'a@b', 'a\nb', '\'', '\\', 'é']},
     {"atom_reserved", ['after', 'and', 'case', 'fun', 'when', 'xor', maybe, else, nil]},
     {"atom_latin1", 'héllo'}, {"atom_latin1_v2", 'héllo', [V2]},
     {"atom_ascii_v2", ok, [V2]}, {"atom_unicode", list_to_atom([1000, $a])},
     {"atom_255", list_to_atom(lists:duplicate(255, $x))},
     {"atom_255_v2", list_to_atom(lists:duplicate(255, $x)), [V2]},
     {"atom_255_unicode", list_to_atom(lists:duplicate(255, 1000))},
     %% binaries and bitstrings
     {"bin_empty", <<>>}, {"bin_text", <<"localhost">>}, {"bin_bytes", <<1,2,3>>},
     {"bin_utf8", <<"héllo wörld"/utf8>>}, {"bin_latin1", <<"h", 233, "llo">>},
     {"bin_escapes", <<"a\"b\\c\nd\te">>}, {"bin_unicode", <<"Ϩ"/utf8>>},
     {"bin_1000", list_to_binary([I rem 256 || I <- lists:seq(1, 1000)])},
     {"bits_1", <<1:1>>}, {"bits_3", <<1:3>>}, {"bits_text", <<"ab", 5:5>>},
     {"bits_7", <<255, 127:7>>},
     %% strings and lists
     {"string", "hello"}, {"string_latin1", "héllo"}, {"string_bytes", [0, 1, 2, 200]},
     {"string_escapes", "a\"b'\\\n\e"}, {"charlist_unicode", [1000, $a]},
     {"nil", []}, {"list", [a, 1, <<"b">>]}, {"list_nested", [[], [[]], "ab", [a | b]]},
     {"improper", [1 | 2]}, {"improper_long", [a, b, c | d]},
     {"improper_string_tail", [a | "bc"]},
     {"string_long", lists:duplicate(300, $z)},
     %% tuples
     {"tuple_empty", {}}, {"tuple_1", {a}}, {"tuple_2", {ok, <<"d613125a">>}},
     {"tuple_256", list_to_tuple(lists:seq(1, 256))},
     {"tuple_large", list_to_tuple([{I, <<I>>} || I <- lists:seq(1, 300)])},
     %% maps
     {"map_empty", #{}}, {"map_atoms", #{iqdisc => one_queue, backend => mnesia}},
     {"map_keys", #{1 => int, 1.0 => float, <<"bin">> => binary, "list" => list,
                    [a, b] => list2, {t, 1} => tuple, #{k => v} => map, a => atom,
                    -5 => neg, 1 bsl 70 => big}},
     {"map_33", maps:from_list([{I, I * I} || I <- lists:seq(1, 33)])},
     {"map_large", maps:from_list([{<<"k", (integer_to_binary(I))/binary>>, I}
                                   || I <- lists:seq(1, 100)]
                                  ++ [{{I}, [I]} || I <- lists:seq(1, 20)])},
     {"map_nested", #{a => #{b => #{c => [#{}]}}}},
     %% pids, ports, references
     {"pid_self", self()}, {"pid_fixed", list_to_pid("<0.607.0>")},
     {"port", hd(erlang:ports())}, {"port_fixed", list_to_port("#Port<0.5>")},
     {"ref", make_ref()}, {"ref_fixed", list_to_ref("#Ref<0.1.2.3>")},
     %% funs
     {"fun_local", fun() -> ok end}, {"fun_closure", closure(Y, <<"env">>)},
     {"fun_export", fun lists:map/2}, {"fun_export_quoted", fun erlang:'+'/2},
     %% compressed
     {"compressed", Big, [compressed]}, {"compressed_9", Big, [{compressed, 9}]},
     {"compressed_small", ok, [compressed]},
     %% nesting
     {"deep_list", nest(list, 500)}, {"deep_tuple", nest(tuple, 500)},
     {"deep_map", nest(map, 300)},
     %% what MongooseIM answers look like
     {"mongoose_like", [{<<"localhost">>, #{mod_bosh => #{backend => mnesia, max_wait => infinity},
                                           mod_vcard => #{host => {prefix, <<"vjud.">>}}}},
                        {hosts, [<<"localhost">>]},
                        {{modules, <<"localhost">>}, {'EXIT', {badarg, [{ets, lookup, 2, []}]}}},
                        {listen, [#{port => 5222, ip_tuple => {127, 0, 0, 1}, proto => tcp}]}]}
    ].

closure(Y, Env) -> fun(X) -> {X + Y, Env} end.

nest(_, 0) -> leaf;
nest(list, N) -> [nest(list, N - 1)];
nest(tuple, N) -> {N, nest(tuple, N - 1)};
nest(map, N) -> #{N => nest(map, N - 1)}.

%% random_floats returns N finite floats of all magnitudes, the same on
%% every run.
random_floats(N) ->
    rand:seed(exsss, {1, 2, 3}),
    random_floats(N, []).

random_floats(0, Acc) -> Acc;
random_floats(N, Acc) ->
    Bits = rand:uniform(1 bsl 64) - 1,
    case <<Bits:64>> of
        <<F:64/float>> -> random_floats(N - 1, [F | Acc]);
        _ -> random_floats(N, Acc) % NaN or infinity
    end.
