//! Per-layer push progress, from the engine's status stream. The engine names each layer in
//! its messages, but the client library leaves the name out; a layer's bytes still come with
//! its size (`total`), which tells the layers apart. This module turns the events into the
//! state of each layer and of the whole push; it never prints (the push draws it). The
//! count of layers comes from the image itself when known: an engine with the containerd
//! image store (Docker 26) says nothing of a layer ("Preparing", "Pushing") until it is done.

use crate::docker::PushEvent;

/// One layer being sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// Its size, as the engine counts the bytes it sends.
    pub total: u64,
    pub current: u64,
    pub done: bool,
}

/// What the status stream said so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layers {
    /// Layers whose bytes were sent, in the order they started.
    pub sent: Vec<Layer>,
    /// The image's layers, as the engine inspects it (0: not known).
    pub expected: usize,
    /// Layers the engine prepared: every layer of the image on the classic image store,
    /// none on the containerd image store (Docker 26).
    pub prepared: usize,
    /// Layers sent to the end ("Pushed").
    pub pushed: usize,
    /// Layers the registry had already ("Layer already exists", "Mounted from …").
    pub existed: usize,
}

impl Layers {
    /// A push of an image of `expected` layers (0: not known).
    pub fn of(expected: usize) -> Layers {
        Layers {
            expected,
            ..Layers::default()
        }
    }

    /// Takes one event; returns the index in [`Layers::sent`] of the layer that changed.
    pub fn observe(&mut self, e: &PushEvent) -> Option<usize> {
        match e.status.as_str() {
            "Preparing" => self.prepared += 1,
            "Pushed" => {
                self.pushed += 1;
                // The layer closest to its end is the one that finished.
                let finished = self
                    .sent
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| !l.done)
                    .max_by(|(_, a), (_, b)| {
                        let ratio = |l: &Layer| l.current as f64 / l.total.max(1) as f64;
                        ratio(a).total_cmp(&ratio(b))
                    })
                    .map(|(i, _)| i);
                if let Some(layer) = finished.and_then(|i| self.sent.get_mut(i)) {
                    layer.current = layer.total;
                    layer.done = true;
                }
                return finished;
            }
            "Layer already exists" => self.existed += 1,
            s if s.starts_with("Mounted from ") => self.existed += 1,
            "Pushing" => {
                let (Some(current), Some(total)) = (e.current, e.total) else {
                    return None;
                };
                if total == 0 {
                    return None;
                }
                let at = match self.sent.iter().position(|l| l.total == total && !l.done) {
                    Some(i) => i,
                    None => {
                        self.sent.push(Layer {
                            total,
                            current: 0,
                            done: false,
                        });
                        self.sent.len() - 1
                    }
                };
                if let Some(layer) = self.sent.get_mut(at) {
                    layer.current = current.min(total);
                }
                return Some(at);
            }
            _ => {}
        }
        None
    }

    /// Layers finished, either way.
    pub fn finished(&self) -> usize {
        self.pushed + self.existed
    }

    /// The image's layers, as far as the stream has told.
    pub fn count(&self) -> usize {
        self.expected.max(self.prepared).max(self.finished())
    }

    /// `3 layers: 1 sent, 2 already in the registry`.
    pub fn summary(&self) -> String {
        let count = self.count();
        format!(
            "{count} layer{}: {} sent, {} already in the registry",
            crate::text::plural(count, "", "s"),
            self.pushed,
            self.existed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(status: &str, progress: Option<(u64, u64)>) -> PushEvent {
        PushEvent {
            status: status.to_string(),
            current: progress.map(|p| p.0),
            total: progress.map(|p| p.1),
        }
    }

    #[test]
    fn layers_are_told_apart_by_their_size() {
        let mut l = Layers::default();
        for _ in 0..3 {
            l.observe(&event("Preparing", None));
        }
        l.observe(&event("Layer already exists", None));
        assert_eq!(l.observe(&event("Pushing", Some((10, 100)))), Some(0));
        assert_eq!(l.observe(&event("Pushing", Some((5, 4000)))), Some(1));
        assert_eq!(l.observe(&event("Pushing", Some((100, 100)))), Some(0));
        assert_eq!(l.observe(&event("Pushing", Some((2000, 4000)))), Some(1));
        // The small layer is at its end: "Pushed" is that one.
        assert_eq!(l.observe(&event("Pushed", None)), Some(0));
        assert!(l.sent[0].done && !l.sent[1].done);
        assert_eq!(l.observe(&event("Pushed", None)), Some(1));
        assert_eq!(
            l.sent[1],
            Layer {
                total: 4000,
                current: 4000,
                done: true
            }
        );
        assert_eq!(l.finished(), 3);
        assert_eq!(l.summary(), "3 layers: 2 sent, 1 already in the registry");
        // Messages without bytes change no layer.
        assert_eq!(l.observe(&event("Pushing", None)), None);
        assert_eq!(l.observe(&event("Waiting", None)), None);
    }

    /// Docker 26 with the containerd image store: no "Preparing" before a layer is done, and
    /// no bytes; the count is the image's from the start.
    #[test]
    fn the_count_is_the_images_when_the_engine_prepares_layers_one_at_a_time() {
        let mut l = Layers::of(3);
        let mut lines = Vec::new();
        for status in ["Pushed", "Layer already exists", "Pushed"] {
            l.observe(&event(status, None));
            lines.push(format!("{}/{}", l.finished(), l.count()));
        }
        assert_eq!(lines, ["1/3", "2/3", "3/3"]);
        assert_eq!(l.summary(), "3 layers: 2 sent, 1 already in the registry");
        // Without the image's count, the engine's word is all there is.
        let mut l = Layers::default();
        l.observe(&event("Preparing", None));
        l.observe(&event("Pushed", None));
        assert_eq!(l.count(), 1);
    }
}
