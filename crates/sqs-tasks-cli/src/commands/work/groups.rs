//! The process groups of running `--exec` tasks, so that none outlives its task or the worker.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use rustix::process::{Pid, Signal, kill_process_group};

/// The process groups of the tasks running now.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProcessGroups {
    running: Arc<Mutex<HashSet<i32>>>,
}

impl ProcessGroups {
    /// Records the group led by `pid` until the returned guard is dropped or disarmed.
    pub(crate) fn register(&self, pid: u32) -> GroupGuard {
        let id = i32::try_from(pid).ok().and_then(Pid::from_raw);
        if let Some(id) = id {
            self.running
                .lock()
                .expect("not poisoned")
                .insert(id.as_raw_nonzero().get());
        }
        GroupGuard {
            groups: self.clone(),
            id,
            armed: true,
        }
    }

    /// Kills every running group: for a stop that cannot wait.
    pub(crate) fn kill_all(&self) {
        let running = self.running.lock().expect("not poisoned");
        for id in running.iter().filter_map(|&raw| Pid::from_raw(raw)) {
            kill(id);
        }
    }
}

/// Kills its process group when dropped while armed: a task that timed out or was abandoned
/// at shutdown takes everything it started with it.
#[derive(Debug)]
pub(crate) struct GroupGuard {
    groups: ProcessGroups,
    id: Option<Pid>,
    armed: bool,
}

impl GroupGuard {
    /// The task ended on its own: leave what it left running alone.
    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        let mut running = self.groups.running.lock().expect("not poisoned");
        running.remove(&id.as_raw_nonzero().get());
        if self.armed {
            kill(id);
        }
    }
}

fn kill(id: Pid) {
    // ESRCH (the group is already gone) is the usual, harmless outcome.
    if let Err(err) = kill_process_group(id, Signal::KILL)
        && err != rustix::io::Errno::SRCH
    {
        tracing::warn!(process_group = id.as_raw_nonzero().get(), error = %err, "could not kill a task's processes");
    }
}
