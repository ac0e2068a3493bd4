/* Form logic: which sections and questions are shown, as a pure function.
 *
 * The same rules as the scoring engine's visibility() (audit_app/scoring/engine.py, DESIGN.md
 * section 4 "Conditions"): walk the checklist in order; a question is shown when it applies to
 * the channel, its section's condition is met and its own condition is met; a condition refers to
 * an earlier question and is met only when that question is shown, answered (not N/A) and its
 * answer is any of the values (yes_no: "yes"/"no"; choice: the option; multi: any chosen option)
 * or within the bound (scale, number: at_most / at_least). A section is shown when at least one
 * of its questions is. tests/test_form_logic_browser.py compares this function with the engine on
 * random checklists and answers.
 *
 *   FormLogic.visibility(logic, answers, channel) -> {sections: {key: bool}, questions: {key: bool}}
 *   logic:   {sections: [{key, condition, questions: [{key, kind, channels, condition}]}]}
 *   answers: {question key: {value, na}}
 */
(function (global) {
  "use strict";

  function has(map, key) { return map !== null && map !== undefined && Object.prototype.hasOwnProperty.call(map, key); }
  function isNumber(v) { return typeof v === "number" && isFinite(v); }
  function given(v) { return v !== null && v !== undefined; }

  function appliesTo(question, channel) {
    var channels = question.channels;
    return !channels || !channels.length || !given(channel) || channels.indexOf(channel) >= 0;
  }

  function conditionMet(condition, question, answer) {
    if (!question || !answer || answer.na || !given(answer.value)) return false;
    var value = answer.value, kind = question.kind;
    if (given(condition.any_of)) {
      var set = condition.any_of;
      if (kind === "yes_no") return typeof value === "boolean" && set.indexOf(value ? "yes" : "no") >= 0;
      if (kind === "choice") return typeof value === "string" && set.indexOf(value) >= 0;
      if (kind === "multi") {
        return Array.isArray(value) && value.some(function (v) { return typeof v === "string" && set.indexOf(v) >= 0; });
      }
      return false;
    }
    if (kind !== "scale" && kind !== "number") return false;
    if (!isNumber(value)) return false;
    if (given(condition.at_most)) return value <= condition.at_most;
    return given(condition.at_least) && value >= condition.at_least;
  }

  function visibility(logic, answers, channel) {
    var byKey = Object.create(null), shownQ = Object.create(null), shownS = Object.create(null);
    var sections = (logic && logic.sections) || [];
    sections.forEach(function (s) { (s.questions || []).forEach(function (q) { byKey[q.key] = q; }); });

    function met(condition) {
      if (!condition) return true;
      if (shownQ[condition.question] !== true) return false;
      return conditionMet(condition, byKey[condition.question], has(answers, condition.question) ? answers[condition.question] : null);
    }

    sections.forEach(function (section) {
      var sectionMet = met(section.condition);
      var any = false;
      (section.questions || []).forEach(function (q) {
        var shown = sectionMet && appliesTo(q, channel) && met(q.condition);
        shownQ[q.key] = shown;
        any = any || shown;
      });
      shownS[section.key] = any;
    });
    var out = { sections: {}, questions: {} };
    Object.keys(shownS).forEach(function (k) { out.sections[k] = shownS[k]; });
    Object.keys(shownQ).forEach(function (k) { out.questions[k] = shownQ[k]; });
    return out;
  }

  global.FormLogic = { visibility: visibility, conditionMet: conditionMet, appliesTo: appliesTo };
})(window);
