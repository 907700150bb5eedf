//! Rating the service (好差评): a level, optional reasons, kept as labels.

use model::evaluation::Rating;

use super::events::{Effect, Event, RatingRecord};
use super::state::{State, Stepped};
use super::Session;
use ui::i18n::n_;

/// Optional reasons on the rating screen: (value, Chinese label). Good
/// ratings get praise, the others complaints.
const GOOD_REASONS: [(&str, &str); 4] =
    [("fast", n_("办得快")), ("easy", n_("机器好用")), ("clear", n_("说明清楚")), ("helpful", n_("工作人员热心"))];
const BAD_REASONS: [(&str, &str); 5] = [
    ("slow", n_("等的时间太长")),
    ("complex", n_("手续太麻烦")),
    ("machine", n_("机器不好用")),
    ("unclear", n_("说明看不懂")),
    ("staff", n_("工作人员态度不好")),
];

pub(super) fn reasons_for(rating: Rating) -> &'static [(&'static str, &'static str)] {
    if matches!(rating, Rating::VerySatisfied | Rating::Satisfied) {
        &GOOD_REASONS
    } else {
        &BAD_REASONS
    }
}

impl Session {
    /// The rules of the rating screen.
    pub(super) fn step_rating(&self, state: State, event: Event) -> Stepped {
        use Event as E;
        Ok(match (state, event) {
            (State::Rate(mut r), E::ChooseRating(rating)) => {
                // Praise and complaints are different lists: a new kind clears them.
                if r.rating.is_some_and(|old| reasons_for(old) != reasons_for(rating)) {
                    r.reasons.clear();
                }
                r.rating = Some(rating);
                (State::Rate(r), vec![])
            }
            (State::Rate(mut r), E::ToggleReason(value)) => {
                let known = r.rating.is_some_and(|rating| reasons_for(rating).iter().any(|(v, _)| *v == value));
                if known && !r.reasons.remove(&value) {
                    r.reasons.insert(value);
                }
                (State::Rate(r), vec![])
            }
            (State::Rate(r), E::SubmitRating) => match r.rating {
                Some(rating) => {
                    let reasons = reasons_for(rating)
                        .iter()
                        .filter(|(v, _)| r.reasons.contains(*v))
                        .map(|(_, label)| (*label).to_owned())
                        .collect();
                    let record = RatingRecord { target: r.target.clone(), rating, reasons, at: (self.clock)() };
                    (State::Goodbye { rated: true }, vec![Effect::StoreRating(record)])
                }
                None => (State::Rate(r), vec![]),
            },
            (State::Rate(r), E::Back) => (*r.back, vec![]),
            (s, e) => return Err((s, e)),
        })
    }
}
