//! Walking stages: the chain of stages a stage builds on (`FROM builder`), a stage's
//! instructions, and [`StageStates`], a per-stage state each stage inherits from the stage it
//! builds on (the package managers or packages installed so far).

use crate::dockerfile::Dockerfile;

/// A state per stage that a stage inherits from the stage it builds on (`FROM builder`), as
/// that one's state is when the stage's first RUN is reached (the builder's RUNs all come
/// before). Each stage is initialised once, so a long chain of stages stays linear.
pub struct StageStates<T> {
    states: Vec<Option<T>>,
    scratch: T,
}

impl<T: Clone + Default> StageStates<T> {
    pub fn new(df: &Dockerfile) -> Self {
        StageStates {
            states: vec![None; df.stages.len()],
            scratch: T::default(),
        }
    }

    /// The state of stage `index`, initialised from its nearest initialised ancestor.
    pub fn get_mut(&mut self, df: &Dockerfile, index: usize) -> &mut T {
        if !matches!(self.states.get(index), Some(Some(_))) {
            self.init(df, index);
        }
        match self.states.get_mut(index) {
            Some(Some(state)) => state,
            // Unreachable after `init`; a scratch state rather than a panic.
            _ => &mut self.scratch,
        }
    }

    fn init(&mut self, df: &Dockerfile, index: usize) {
        if self.states.len() <= index {
            self.states.resize(index + 1, None);
        }
        let mut path = Vec::new();
        let mut cur = Some(index);
        let mut base = T::default();
        while let Some(i) = cur {
            if let Some(Some(state)) = self.states.get(i) {
                base = state.clone();
                break;
            }
            path.push(i);
            // Parents come before their children; anything else would be a cycle.
            cur = df.stages.get(i).and_then(|s| s.parent).filter(|&p| p < i);
        }
        for i in path.into_iter().rev() {
            if let Some(slot) = self.states.get_mut(i) {
                *slot = Some(base.clone());
            }
        }
    }
}

/// A stage and the stages it builds on (`FROM builder`), the root first.
pub fn stage_chain<'d>(
    df: &'d crate::dockerfile::Dockerfile,
    stage: &'d crate::dockerfile::Stage,
) -> Vec<&'d crate::dockerfile::Stage> {
    let mut chain = vec![stage];
    let mut cur = stage;
    while let Some(p) = cur.parent.and_then(|p| df.stages.get(p)) {
        // Parents come before their children; anything else would be a cycle.
        if p.index >= cur.index || chain.len() > df.stages.len() {
            break;
        }
        chain.push(p);
        cur = p;
    }
    chain.reverse();
    chain
}

/// The instructions of a stage, FROM included.
pub fn stage_instructions<'d>(
    df: &'d crate::dockerfile::Dockerfile,
    stage: &crate::dockerfile::Stage,
) -> &'d [crate::dockerfile::Instruction] {
    df.instructions
        .get(stage.instructions.clone())
        .unwrap_or(&[])
}
