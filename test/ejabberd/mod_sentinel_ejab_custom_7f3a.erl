%% A do-nothing ejabberd module that is not part of ejabberd: the test
%% fixture for "custom modules are only counted, never named". Its name is a
%% sentinel that must never leave in a report.
-module(mod_sentinel_ejab_custom_7f3a).
-behaviour(gen_mod).

-export([start/2, stop/1, reload/3, depends/2, mod_options/1, mod_doc/0]).

start(_Host, _Opts) -> ok.

stop(_Host) -> ok.

reload(_Host, _NewOpts, _OldOpts) -> ok.

depends(_Host, _Opts) -> [].

mod_options(_Host) -> [].

mod_doc() -> #{desc => ["Test fixture; does nothing."]}.
