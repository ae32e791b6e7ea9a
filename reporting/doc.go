// Package reporting decides when and where mim-metrics reports go.
//
// It reproduces what MongooseIM's service_mongoose_system_metrics does with
// the report it collects, and improves on it:
//
//   - Consent: explicit consent (--report) is silent, an opt-out
//     (--no-report or DO_NOT_TRACK) sends nothing, and the default logs a
//     notice on every start that says what is gathered, where the last report
//     is written and how to silence it or opt out.
//   - Cluster ID: the cluster's own Cluster ID is the analytics client id;
//     clusters without one get a random UUID kept in the state directory.
//   - Destinations: Google Analytics 4 (Measurement Protocol) properties and,
//     for old deployments, Universal Analytics properties. Requests are
//     validated and split before they are sent, TLS is verified, and failures
//     are retried with back-off within the reporting period.
//   - The report file: the events as sent, for every node, replaced
//     atomically after every cycle.
//   - The schedule: a first report after an initial delay, then one at a fixed
//     rate; a report still running at the next tick is cancelled.
//   - The preview: the exact requests that would be sent, secrets masked.
//
// Node names are local information: they appear in logs, the preview and the
// report file, never in anything sent to a destination.
package reporting
