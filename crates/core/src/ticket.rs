//! Tickets: kinds, the status life cycle, and impact × urgency → priority.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketKind {
    /// Something is broken.
    Incident,
    /// Something is wanted: an account, an app on a class's iPads, a new PC.
    ServiceRequest,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    New,
    Open,
    /// The SLA clock pauses: the ball is with the requester.
    WaitingRequester,
    /// The clock runs: a supplier delay is still the provider's responsibility.
    WaitingSupplier,
    Resolved,
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    High,
    Medium,
    Low,
}

/// P1 is the most urgent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

/// A refused status change, naming both ends so the message can say what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a ticket cannot go from {from:?} to {to:?}")]
pub struct TransitionError {
    pub from: TicketStatus,
    pub to: TicketStatus,
}

macro_rules! codes {
    ($t:ty { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $t {
            pub const ALL: &'static [$t] = &[$(<$t>::$v),+];
            pub fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($s => Some(<$t>::$v),)+ _ => None }
            }
        }
    };
}

codes!(TicketKind { Incident => "incident", ServiceRequest => "service_request" });
codes!(TicketStatus {
    New => "new",
    Open => "open",
    WaitingRequester => "waiting_requester",
    WaitingSupplier => "waiting_supplier",
    Resolved => "resolved",
    Closed => "closed",
});
codes!(Level { High => "high", Medium => "medium", Low => "low" });
codes!(Priority { P1 => "p1", P2 => "p2", P3 => "p3", P4 => "p4" });

impl TicketStatus {
    /// The allowed moves. Closed is final: a new problem gets a new ticket, so reports
    /// and SLA figures of closed work never change afterwards.
    pub fn can_move_to(self, next: TicketStatus) -> bool {
        use TicketStatus::*;
        match (self, next) {
            (a, b) if a == b => false,
            (Closed, _) => false,
            (_, New) => false,
            (Resolved, Open | Closed) => true,
            (Resolved, _) => false,
            (New | Open | WaitingRequester | WaitingSupplier, Closed) => matches!(self, New),
            _ => true,
        }
    }

    pub fn check_move(self, next: TicketStatus) -> Result<(), TransitionError> {
        if self.can_move_to(next) {
            Ok(())
        } else {
            Err(TransitionError {
                from: self,
                to: next,
            })
        }
    }

    /// Work on it is finished (the resolution clock has stopped).
    pub fn is_done(self) -> bool {
        matches!(self, TicketStatus::Resolved | TicketStatus::Closed)
    }

    /// The SLA clocks do not run in this status.
    pub fn pauses_sla(self) -> bool {
        self == TicketStatus::WaitingRequester
    }

    /// Shown in the queues a technician works from.
    pub fn is_active(self) -> bool {
        !self.is_done()
    }
}

/// Impact × urgency → priority. Each provider may set its own; rows are impact
/// (high, medium, low), columns urgency (high, medium, low).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityMatrix(pub [[Priority; 3]; 3]);

impl Default for PriorityMatrix {
    /// The usual ITIL-style matrix.
    fn default() -> Self {
        use Priority::*;
        PriorityMatrix([[P1, P2, P3], [P2, P3, P4], [P3, P4, P4]])
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a priority matrix is three rows of three priorities, like \"p1 p2 p3; p2 p3 p4; p3 p4 p4\""
)]
pub struct MatrixError;

fn index(level: Level) -> usize {
    match level {
        Level::High => 0,
        Level::Medium => 1,
        Level::Low => 2,
    }
}

impl PriorityMatrix {
    pub fn priority(&self, impact: Level, urgency: Level) -> Priority {
        self.0[index(impact)][index(urgency)]
    }

    /// The stored form: rows separated by `;`, cells by spaces.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|row| row.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn parse(text: &str) -> Result<Self, MatrixError> {
        let rows: Vec<Vec<Priority>> = text
            .split(';')
            .map(|row| {
                row.split_whitespace()
                    .map(|c| Priority::parse(&c.to_ascii_lowercase()).ok_or(MatrixError))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<_, _>>()?;
        let mut m = [[Priority::P4; 3]; 3];
        if rows.len() != 3 {
            return Err(MatrixError);
        }
        for (i, row) in rows.iter().enumerate() {
            if row.len() != 3 {
                return Err(MatrixError);
            }
            m[i].copy_from_slice(row);
        }
        Ok(PriorityMatrix(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::*;
    use proptest::prelude::*;

    #[test]
    fn life_cycle() {
        assert!(New.can_move_to(Open));
        assert!(
            New.can_move_to(Closed),
            "spam and duplicates close straight away"
        );
        assert!(Open.can_move_to(WaitingRequester));
        assert!(WaitingRequester.can_move_to(Open));
        assert!(Open.can_move_to(Resolved));
        assert!(Resolved.can_move_to(Open), "reopen");
        assert!(Resolved.can_move_to(Closed));
        assert!(
            !Open.can_move_to(Closed),
            "resolve first, so the resolution is recorded"
        );
        assert!(!Closed.can_move_to(Open));
        assert!(!Open.can_move_to(New));
        assert!(!Open.can_move_to(Open));
        assert_eq!(
            Closed.check_move(Open),
            Err(TransitionError {
                from: Closed,
                to: Open
            })
        );
    }

    #[test]
    fn only_waiting_for_the_requester_pauses() {
        for s in TicketStatus::ALL {
            assert_eq!(s.pauses_sla(), *s == WaitingRequester);
        }
    }

    #[test]
    fn default_matrix() {
        let m = PriorityMatrix::default();
        assert_eq!(m.priority(Level::High, Level::High), Priority::P1);
        assert_eq!(m.priority(Level::Low, Level::Low), Priority::P4);
        assert_eq!(m.priority(Level::Medium, Level::High), Priority::P2);
    }

    #[test]
    fn matrix_text() {
        let m = PriorityMatrix::default();
        assert_eq!(PriorityMatrix::parse(&m.to_text()), Ok(m));
        assert_eq!(
            PriorityMatrix::parse("p1 p1 p1; p1 p1 p1"),
            Err(MatrixError)
        );
        assert_eq!(
            PriorityMatrix::parse("p1 p1; p1 p1 p1; p1 p1 p1"),
            Err(MatrixError)
        );
        assert_eq!(
            PriorityMatrix::parse("p1 p1 p9; p1 p1 p1; p1 p1 p1"),
            Err(MatrixError)
        );
        assert!(PriorityMatrix::parse("P1 P2 P2; P2 P3 P3; P3 P4 P4").is_ok());
    }

    #[test]
    fn codes_round_trip() {
        for s in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(s.as_str()), Some(*s));
        }
        for k in TicketKind::ALL {
            assert_eq!(TicketKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(Level::parse("urgent"), None);
    }

    proptest! {
        #[test]
        fn closed_is_final_and_new_is_never_reentered(a in 0usize..6, b in 0usize..6) {
            let (a, b) = (TicketStatus::ALL[a], TicketStatus::ALL[b]);
            if a == Closed || b == New || a == b {
                prop_assert!(!a.can_move_to(b));
            }
        }

        #[test]
        fn every_open_status_can_reach_closed(a in 0usize..5) {
            // Through Resolved if not directly: no ticket gets stuck.
            let a = TicketStatus::ALL[a];
            prop_assert!(a.can_move_to(Closed) || (a.can_move_to(Resolved) && Resolved.can_move_to(Closed)) || a == Resolved);
        }
    }
}
