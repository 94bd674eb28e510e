//! The `tracing` feature (`cargo test --features tracing --test tracing`):
//! a recording layer on tracing-subscriber's registry sees what
//! tokio-console's console-subscriber matches on: one span named
//! `runtime.spawn` per spawn, with the fields `kind`, `task.name`,
//! `task.id`, `loc.file`, `loc.line` and `loc.col`; the span entered (and
//! exited) once per poll and closed once when the task ends; and events
//! with target `runtime::waker` whose `op` names the waker operation and
//! whose `task.id` is the task span's id. On both flavours: on the
//! multi-thread runtime the subscriber is current only on the spawning
//! thread, and everything still reaches it.

mod reliability_support;

use reliability_support::flavours;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// What the layer saw.
#[derive(Default, Debug)]
struct Seen {
    /// Spans named `runtime.spawn`, by tracing id: their fields as text.
    spans: HashMap<u64, HashMap<String, String>>,
    enters: HashMap<u64, usize>,
    exits: HashMap<u64, usize>,
    closes: HashMap<u64, usize>,
    /// `runtime::waker` events: (op, task.id).
    wakers: Vec<(String, u64)>,
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Seen>>);

impl Recorder {
    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Collects every field as text (strings unquoted).
#[derive(Default)]
struct Fields(HashMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        if attrs.metadata().name() == "runtime.spawn" {
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            self.seen().spans.insert(id.into_u64(), fields.0);
        }
    }
    fn on_enter(&self, id: &Id, _: Context<'_, S>) {
        *self.seen().enters.entry(id.into_u64()).or_default() += 1;
    }
    fn on_exit(&self, id: &Id, _: Context<'_, S>) {
        *self.seen().exits.entry(id.into_u64()).or_default() += 1;
    }
    fn on_close(&self, id: Id, _: Context<'_, S>) {
        *self.seen().closes.entry(id.into_u64()).or_default() += 1;
    }
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "runtime::waker" {
            let mut fields = Fields::default();
            event.record(&mut fields);
            let op = fields.0.remove("op").expect("an op field");
            let task = fields.0["task.id"].parse().expect("task.id is a u64");
            self.seen().wakers.push((op, task));
        }
    }
}

/// One span per spawn with console's field names and values; entered and
/// exited once per poll (counted by a poll hook); closed once; waker
/// events for clone, wake-by-ref, wake and drop, each naming a task span.
#[test]
fn console_sees_task_spans_polls_and_waker_events() {
    for (flavour, mut builder) in flavours() {
        let recorder = Recorder::default();
        let polls: Arc<Mutex<HashMap<u64, usize>>> = Arc::default();
        let counter = polls.clone();
        builder.on_before_task_poll(move |meta| {
            *counter
                .lock()
                .unwrap()
                .entry(meta.id().as_u64())
                .or_default() += 1;
        });
        let subscriber = tracing_subscriber::registry().with(recorder.clone());
        let (named_id, line, waiter_id) = tracing::subscriber::with_default(subscriber, || {
            let rt = builder.build().expect("runtime builds");
            let ids = rt.block_on(async {
                // Wakes itself by reference once: two polls.
                let line = line!() + 1;
                let named = weft::task::Builder::new().name("worker").spawn(async {
                    weft::yield_now().await;
                });
                let named_id = named.id();
                named.await.unwrap();
                // Parks on an Event: its waker is cloned, then woken by value.
                let event = Arc::new(weft::sync::Event::new());
                let waiting = event.clone();
                let waiter = weft::spawn(async move { waiting.wait().await });
                let waiter_id = waiter.id();
                while !is_parked(&waiter) {
                    weft::yield_now().await;
                }
                event.set();
                waiter.await.unwrap();
                weft::spawn_blocking(|| ()).await.unwrap();
                (named_id, line, waiter_id)
            });
            drop(rt);
            ids
        });
        let seen = recorder.seen();
        let by_weft_id = |id: weft::task::Id| {
            let (span, fields) = seen
                .spans
                .iter()
                .find(|(_, fields)| fields.get("task.id") == Some(&id.to_string()))
                .unwrap_or_else(|| panic!("{flavour}: no span for task {id}: {seen:?}"));
            (*span, fields)
        };
        // One span per spawn: two tasks and one blocking closure.
        assert_eq!(seen.spans.len(), 3, "{flavour}: {:?}", seen.spans);
        let (named_span, fields) = by_weft_id(named_id);
        assert_eq!(fields["task.name"], "worker", "{flavour}");
        assert_eq!(fields["kind"], "task", "{flavour}");
        assert_eq!(fields["loc.file"], file!(), "{flavour}");
        assert_eq!(fields["loc.line"], line.to_string(), "{flavour}");
        assert!(fields["loc.col"].parse::<u32>().unwrap() > 0, "{flavour}");
        let (waiter_span, fields) = by_weft_id(waiter_id);
        assert!(!fields.contains_key("task.name"), "{flavour}: unnamed");
        let blocking = seen
            .spans
            .values()
            .filter(|f| f["kind"] == "blocking")
            .count();
        assert_eq!(blocking, 1, "{flavour}");
        // Entered and exited once per poll; closed once.
        let polls = polls.lock().unwrap();
        for (id, span) in [(named_id, named_span), (waiter_id, waiter_span)] {
            let polled = polls[&id.as_u64()];
            assert_eq!(
                seen.enters.get(&span),
                Some(&polled),
                "{flavour}: task {id}"
            );
            assert_eq!(seen.exits.get(&span), Some(&polled), "{flavour}: task {id}");
        }
        assert_eq!(
            polls[&named_id.as_u64()],
            2,
            "{flavour}: yield_now means two polls"
        );
        for span in seen.spans.keys() {
            assert_eq!(seen.closes.get(span), Some(&1), "{flavour}: span {span}");
        }
        // Waker events name task spans.
        let ops_of = |span: u64| -> Vec<&str> {
            seen.wakers
                .iter()
                .filter(|(_, task)| *task == span)
                .map(|(op, _)| op.as_str())
                .collect()
        };
        assert!(
            ops_of(named_span).contains(&"waker.wake_by_ref"),
            "{flavour}: {:?}",
            ops_of(named_span)
        );
        let waiter_ops = ops_of(waiter_span);
        for op in ["waker.clone", "waker.wake"] {
            assert!(
                waiter_ops.contains(&op),
                "{flavour}: {op} in {waiter_ops:?}"
            );
        }
        for (op, task) in &seen.wakers {
            assert!(
                seen.spans.contains_key(task),
                "{flavour}: {op} for unknown span {task}"
            );
        }
    }
}

/// True once the task has been polled and is waiting to be woken (so its
/// waker is registered): lets it park without sleeping for ordering.
fn is_parked<T>(task: &weft::task::JoinHandle<T>) -> bool {
    let dump = weft::Handle::current().dump();
    dump.tasks().iter().any(|info| {
        info.id() == task.id() && info.polls() > 0 && info.state() == weft::TaskState::Idle
    })
}
