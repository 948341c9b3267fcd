//! What clients see: one Rust type per response body (and per nested object), each a `ToSchema` so the
//! OpenAPI document describes exactly what is serialised, and `Deserialize` so clients and the e2e tests
//! can read bodies back into the same types. Records from storage become views here, with instants
//! shown in the service time zone and the derived values (SLA clocks, allowed actions) computed by the
//! domain.

mod alert;
mod call;
mod context;
mod incident;
mod partner;
mod privacy;
mod registry;
mod report;
mod status;
mod ticket;
mod token;

pub use alert::{AlertList, AlertView};
pub use call::{
    CallView, IdentifierView, InstitutionClaimView, LoggedCallView, NewTicketView, RelatedTicketView,
    VerificationView,
};
pub use context::{DeadlineView, PartnerRef, PrefectureCodeView, ViewContext};
pub use incident::{
    AmountLineView, AssessmentView, ClaimView, DeadlineEntryView, DeadlineList, ExclusionView,
    IncidentFactsView, RegulatoryDeadlineView, RequirementView, RuleSetView, SupportPaymentList,
    SupportPaymentView, TicketSupportPaymentView,
};
pub use partner::{OfficeHoursView, PartnerList, PartnerView, PoliceDeskView, office_hours_of};
pub use privacy::{
    AccessEntryView, AccessLogView, ErasedTicketView, ErasureView, FoundNoteView, PersonalDataView,
};
pub use registry::{ImportCountsView, ImportReportView, MemberInstitutionView, MemberList, MemberView};
pub use report::{
    BreakdownRowView, CallsTodayView, DashboardView, DeskRef, DurationStatsView, DurationsView,
    HotlineStateView, OpenTicketsView, OutcomeCountView, OverdueView, PoliceDeskAvailabilityView,
    PoliceDesksOpenView, PriorityCountView, ReferralCountView, ReportRangeView, ReportTotalsView,
    StatusCountView, SummaryReportView,
};
pub use status::{HealthView, HotlineStatusView, ReadyView};
pub use ticket::{
    AllowedTransition, CallbackList, CallbackView, CallerView, ConsentView, EventActorView, EventList,
    EventView, FactsView, NoteView, OpenReferralView, ReferralView, SlaView, TicketList, TicketReferralView,
    TicketSummaryView, TicketView, TriageView, WithCallback, WithNote, WithReferral,
};
pub use token::{CreatedTokenView, TokenList, TokenView};
