/** @odoo-module **/

import { registry } from "@web/core/registry";

// The cockpit, as an integrator uses it once a plan exists: a background run followed live
// to Done, its log, the id map, a statement added with the field picker, a preview. The
// test sets window.rdmPartnerSourceId and window.rdmPartnerName before the tour starts.
registry.category("web_tour.tours").add("remote_data_migration_cockpit_tour", {
    steps: () => [
        { content: "Run the plan", trigger: ".o_statusbar_buttons button:contains(Run)", run: "click" },
        { content: "In the background by default", trigger: ".modal .o_field_widget[name=background] input:checked" },
        { trigger: ".modal button[name=action_run]", run: "click" },
        {
            content: "The run's page follows the run to Done, with no reload",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Done)",
            timeout: 60000, // the most a step may wait
        },
        { trigger: ".o_field_widget[name=progress]:contains(100)" },
        { content: "Its log", trigger: "button.oe_stat_button:contains(Log)", run: "click" },
        { trigger: ".o_list_view th[data-name=level]" },
        { trigger: ".o_list_view th[data-name=source_model]" },
        { trigger: ".o_list_view th[data-name=source_record]" },
        { trigger: ".o_list_view th[data-name=target_ref]" },
        { trigger: ".o_list_view th[data-name=message]" },
        { content: "Logs are not typed in", trigger: ".o_control_panel:not(:has(.o_list_button_add))" },
        {
            content: "The id map",
            trigger: ".o_menu_sections a:contains(Id Map), .o_menu_sections button:contains(Id Map)",
            run: "click",
        },
        { trigger: ".o_list_view th[data-name=target_ref]" },
        { trigger: ".o_searchview_input", run: `edit ${window.rdmPartnerSourceId}` },
        { trigger: ".o_searchview_input", run: "press Enter" },
        {
            content: "The migrated partner, by its source id",
            trigger: `.o_data_row td[name=target_ref]:contains(${window.rdmPartnerName})`,
        },
        {
            content: "Back to the plans",
            trigger: ".o_menu_sections a:contains(Plans), .o_menu_sections button:contains(Plans)",
            run: "click",
        },
        { trigger: ".o_data_row td[name=name]:contains(Contacts)", run: "click" },
        {
            content: "Open the titles' rule",
            trigger: ".o_field_widget[name=model_rule_ids] td[name=source_model]:contains(res.partner.title)",
            run: "click",
        },
        { trigger: ".modal .o_field_widget[name=field_rule_ids] .o_field_x2many_list_row_add a", run: "click" },
        {
            content: "The source's fields are offered",
            trigger: ".modal .o_selected_row .o_field_widget[name=source_field] input[list]",
            run() {
                const choices = document.getElementById(this.anchor.getAttribute("list"));
                if (!choices || !choices.querySelector("option[value=shortcut]")) {
                    throw new Error("the field picker offers no source field 'shortcut'");
                }
            },
        },
        { trigger: ".modal .o_selected_row .o_field_widget[name=source_field] input", run: "edit shortcut" },
        {
            content: "The target's fields too",
            trigger: ".modal .o_selected_row .o_field_widget[name=target_field] input[list]",
            run() {
                const choices = document.getElementById(this.anchor.getAttribute("list"));
                if (!choices || !choices.querySelector("option[value=shortcut]")) {
                    throw new Error("the field picker offers no target field 'shortcut'");
                }
            },
        },
        { trigger: ".modal .o_selected_row .o_field_widget[name=target_field] input", run: "edit shortcut" },
        // an edit reaches the record on its input's change event, when the input loses focus:
        // leave the line and see both values in it before saving, not while they travel
        { content: "Leave the line", trigger: ".modal .modal-title", run: "click" },
        { trigger: ".modal .o_data_row:not(.o_selected_row) td[name=source_field]:contains(shortcut)" },
        { trigger: ".modal .o_data_row:not(.o_selected_row) td[name=target_field]:contains(shortcut)" },
        { content: "Save the rule", trigger: ".modal .modal-footer .o_form_button_save", run: "click" },
        { trigger: "body:not(:has(.modal))" },
        { content: "The rule's changes are the plan's, not saved yet", trigger: ".o_form_dirty" },
        { trigger: ".o_form_button_save", run: "click" },
        // the form may look saved before the save's answer: the plan back to draft (its
        // mapping changed) says the statement reached the database
        {
            content: "Saved: the plan is a draft again",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Draft)",
        },
        { trigger: ".o_form_saved" },
        // the preview last: closing it reloads the plan, and a row clicked during that reload
        // belongs to the list being replaced, where the rule dialog's changes would be lost
        {
            content: "Preview the titles",
            trigger: ".o_field_widget[name=model_rule_ids] tr:contains(res.partner.title) button[name=action_preview]",
            run: "click",
        },
        {
            content: "Source rows, as the run would write them",
            trigger: ".modal .o_rdm_preview td:contains(res.partner.title)",
        },
        { trigger: ".modal .o_rdm_preview td:contains(shortcut)" },
        { trigger: ".modal button:contains(Close)", run: "click" },
        { trigger: "body:not(:has(.modal))" },
    ],
});
