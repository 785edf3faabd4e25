/** @odoo-module **/
// A field name typed freely, with the fields of the source (or the target) offered as you
// type: an HTML datalist, filled from a JSON list the record computes from the schema.
import { registry } from "@web/core/registry";
import { CharField, charField } from "@web/views/fields/char/char_field";

export class FieldPickerField extends CharField {
    static template = "remote_data_migration.FieldPickerField";
    static props = {
        ...CharField.props,
        choicesField: { type: String, optional: true },
    };

    get choices() {
        const raw = this.props.record.data[this.props.choicesField];
        try {
            return raw ? JSON.parse(raw) : [];
        } catch {
            return [];
        }
    }

    get listId() {
        return `rdm_choices_${this.props.name}_${this.props.record.id}`;
    }
}

registry.category("fields").add("rdm_field_picker", {
    ...charField,
    component: FieldPickerField,
    extractProps(fieldInfo, dynamicInfo) {
        return {
            ...charField.extractProps(fieldInfo, dynamicInfo),
            choicesField: fieldInfo.options.choices,
        };
    },
});
