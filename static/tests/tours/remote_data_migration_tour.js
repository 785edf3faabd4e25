/** @odoo-module **/

import { registry } from "@web/core/registry";

// The main screens, as an integrator goes through them: a source, its connection test, a
// generated plan, a dry run, a run, and the run's counters. The test sets the URL of its
// source server in window.rdmSourceUrl before the tour starts.
registry.category("web_tour.tours").add("remote_data_migration_tour", {
    steps: () => [
        { content: "New source", trigger: ".o_list_button_add", run: "click" },
        { trigger: ".o_field_widget[name=name] input", run: "edit Tour source" },
        { trigger: ".o_field_widget[name=url] input", run: `edit ${window.rdmSourceUrl}` },
        { trigger: ".o_field_widget[name=database] input", run: `edit ${window.rdmSourceDatabase}` },
        { trigger: ".o_field_widget[name=login] input", run: "edit admin" },
        { trigger: ".o_field_widget[name=secret] input", run: "edit admin" },
        { content: "Save", trigger: ".o_form_button_save", run: "click" },
        { trigger: ".o_form_saved" },
        { content: "Test connection", trigger: "button[name=action_test_connection]", run: "click" },
        { content: "It answers", trigger: ".o_notification:contains(Connection successful)" },
        {
            content: "Generate a plan",
            trigger: ".o_menu_sections a:contains(Generate a Plan), .o_menu_sections button:contains(Generate a Plan)",
            run: "click",
        },
        { trigger: ".modal .o_field_widget[name=source_id] input", run: "edit Tour source" },
        { trigger: ".o-autocomplete--dropdown-item:contains(Tour source)", run: "click" },
        { trigger: ".modal .o_field_widget[name=plan_name] input", run: "edit Tour plan" },
        { trigger: ".modal .o_field_widget[name=model_names] textarea", run: "edit res.partner.category" },
        { content: "Generate", trigger: ".modal button[name=action_generate]", run: "click" },
        { content: "The plan is valid", trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Validated)" },
        { content: "Its picture", trigger: ".o_notebook_headers a:contains(Picture)", run: "click" },
        { trigger: ".o_field_widget[name=picture] svg text:contains(res.partner.category)" },
        { content: "Run it", trigger: ".o_statusbar_buttons button:contains(Run)", run: "click" },
        { content: "Dry run first", trigger: ".modal .o_field_widget[name=dry_run] input", run: "click" },
        { content: "Here and now", trigger: ".modal .o_field_widget[name=background] input:checked", run: "click" },
        { trigger: ".modal button[name=action_run]", run: "click" },
        { content: "The dry run is done", trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Done)" },
        { trigger: ".o_field_widget[name=dry_run] input:checked" },
        { content: "Back to the plan", trigger: ".breadcrumb-item a:contains(Tour plan)", run: "click" },
        { trigger: ".o_statusbar_buttons button:contains(Run)", run: "click" },
        { trigger: ".modal .o_field_widget[name=background] input:checked", run: "click" },
        { trigger: ".modal button[name=action_run]", run: "click" },
        { content: "The run is done", trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Done)" },
        { trigger: ".o_field_widget[name=dry_run] input:not(:checked)" },
        {
            content: "Its counters: every category read",
            trigger: `.o_field_widget[name=model_ids] tr:contains(res.partner.category) td[name=read_count]:contains(${window.rdmCategoryCount})`,
        },
    ],
});
