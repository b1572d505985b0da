//! Round trips on the critical path, from acme-proto's own transport log: the drivers'
//! `sending` and `response` (or `refused`, `transport failure`) events, each with the
//! request's id, stamped here as they are emitted. The critical path is the longest
//! chain of requests each sent after the one before it had landed: requests out
//! together count once, requests one after another count each.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt as _};

/// Each request's send and landing times, by id.
#[derive(Debug, Default, Clone)]
pub struct TransportLog(Arc<Mutex<Vec<Entry>>>);

#[derive(Debug, Clone, Copy)]
struct Entry {
    id: u64,
    sent: Option<Instant>,
    landed: Option<Instant>,
}

impl TransportLog {
    /// Starts recording the drivers' transport events of this process.
    pub fn install() -> Self {
        let log = Self::default();
        let subscriber = tracing_subscriber::registry().with(Capture(log.clone()));
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
        log
    }

    fn note(&self, id: u64, sent: bool) {
        let now = Instant::now();
        let mut entries = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if sent {
            entries.push(Entry {
                id,
                sent: Some(now),
                landed: None,
            });
        } else if let Some(entry) = entries
            .iter_mut()
            .rev()
            .find(|e| e.id == id && e.landed.is_none())
        {
            entry.landed = Some(now);
        }
    }

    /// The longest chain of requests sent between `from` and `to`, each sent after the
    /// one before it landed.
    pub fn critical_path(&self, from: Instant, to: Instant) -> usize {
        let entries = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut spans: Vec<(Instant, Instant)> = entries
            .iter()
            .filter_map(|e| Some((e.sent?, e.landed?)))
            .filter(|(sent, landed)| *sent >= from && *landed <= to)
            .collect();
        longest_chain(&mut spans)
    }
}

/// The longest chain of spans, each starting at or after the end of the one before.
fn longest_chain(spans: &mut [(Instant, Instant)]) -> usize {
    spans.sort_by_key(|(_, end)| *end);
    let mut chain = vec![0_usize; spans.len()];
    for i in 0..spans.len() {
        let start = spans[i].0;
        let before = (0..i)
            .filter(|&j| spans[j].1 <= start)
            .map(|j| chain[j])
            .max()
            .unwrap_or(0);
        chain[i] = before + 1;
    }
    chain.into_iter().max().unwrap_or(0)
}

struct Capture(TransportLog);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if !event.metadata().target().starts_with("acme_proto_support") {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let Some(id) = fields.id else {
            return;
        };
        match fields.message.as_deref() {
            Some("sending") => self.0.note(id, true),
            Some("response" | "refused" | "transport failure") => self.0.note(id, false),
            _ => {}
        }
    }
}

#[derive(Default)]
struct Fields {
    id: Option<u64>,
    message: Option<String>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            // `id = %request.id`: "#12".
            "id" => {
                self.id = format!("{value:?}").trim_start_matches('#').parse().ok();
            }
            "message" => self.message = Some(format!("{value:?}")),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn together_counts_once_one_after_another_each() {
        let t = Instant::now();
        let ms = |n| t + Duration::from_millis(n);
        // One, then three together, then one: three on the critical path.
        let mut spans = vec![
            (ms(0), ms(10)),
            (ms(10), ms(20)),
            (ms(11), ms(22)),
            (ms(12), ms(21)),
            (ms(22), ms(30)),
        ];
        assert_eq!(longest_chain(&mut spans), 3);
        // Five one after another: five.
        let mut spans: Vec<_> = (0..5).map(|i| (ms(i * 10), ms(i * 10 + 9))).collect();
        assert_eq!(longest_chain(&mut spans), 5);
    }
}
