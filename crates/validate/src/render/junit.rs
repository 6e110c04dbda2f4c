//! `--format junit`: one test suite per rule that ran; every finding is a failing test
//! case named after its location; a rule without findings has one passing test case.

use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};

use super::RenderError;
use crate::engine::Report;

/// The JUnit XML report (written with quick-junit; no timestamps, so it is deterministic).
pub fn junit(report: &Report) -> Result<String, RenderError> {
    let mut out = JReport::new("berth validate");
    for rule in &report.rules {
        let mut suite = TestSuite::new(rule.id);
        let mut any = false;
        for d in report.diagnostics.iter().filter(|d| d.rule == rule.id) {
            any = true;
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(d.message.as_str());
            status.set_type(d.severity.as_str());
            let mut desc = format!("{}: {}", d.location(), d.message);
            if let Some(h) = &d.help {
                desc.push_str("\nhelp: ");
                desc.push_str(h);
            }
            status.set_description(desc);
            let mut case = TestCase::new(d.location(), status);
            case.set_classname(rule.id);
            suite.add_test_case(case);
        }
        if !any {
            let mut case = TestCase::new("repository", TestCaseStatus::success());
            case.set_classname(rule.id);
            suite.add_test_case(case);
        }
        out.add_test_suite(suite);
    }
    out.to_string().map_err(|e| RenderError(e.to_string()))
}
